"""Pure values and rules: no disk, no git, no network."""
