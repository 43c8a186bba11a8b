"""Units shared by every app (capacity arithmetic, image defaults, consoles)."""

GIB = 1024**3
MIB = 1024**2

# The largest resources anyone may type for one host or one workspace: far above any real machine,
# far below what overflows a database column or the capacity arithmetic.
MAX_CORES = 4096
MAX_MEMORY = 64 * 1024**4  # 64 TiB
MAX_GPUS = 256
