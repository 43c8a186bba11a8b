"""Units shared by every app (capacity arithmetic, image defaults, consoles)."""

GIB = 1024**3
MIB = 1024**2
