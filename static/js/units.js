// Units shared by the console's scripts (the same as apps/common/units.py).
export const GIB = 1024 ** 3;
