"""Domain layer: plain data and rules shared by every other layer (standard library only)."""
