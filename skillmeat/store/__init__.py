"""Stores: the only code that touches disk, Git or the network."""
