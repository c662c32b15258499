#!/usr/bin/env python3
"""Writes a little-endian f32 .npy file for tests, standard library only.

usage: make_npy.py OUT D0xD1... [--truncate BYTES]
Values are 0, 1, 2, ... in C order.
"""
import struct
import sys


def main(argv):
    out, dims = argv[0], argv[1]
    truncate = int(argv[3]) if len(argv) > 3 and argv[2] == "--truncate" else 0
    shape = [int(d) for d in dims.split("x")] if dims else []
    count = 1
    for d in shape:
        count *= d
    shape_text = "(" + "".join("%d, " % d for d in shape).rstrip(" ") + ")"
    if len(shape) > 1:
        shape_text = shape_text.replace(", )", ")")
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }" % shape_text
    header += " " * (-(10 + len(header) + 1) % 64) + "\n"
    data = (b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) +
            header.encode() + struct.pack("<%df" % count, *range(count)))
    with open(out, "wb") as f:
        f.write(data[:len(data) - truncate])


if __name__ == "__main__":
    main(sys.argv[1:])
