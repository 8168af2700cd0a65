"""Services: the logic. They take stores as arguments, return values or raise."""
