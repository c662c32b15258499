#!/usr/bin/env python3
"""Writes a safetensors file for tests, standard library only.

usage: make_safetensors.py OUT NAME:DTYPE:D0xD1... [...] [--truncate BYTES]
Values are 0.5, 1.5, 2.5, ... in the given dtype (F32, F64, I32, I64).
--truncate drops that many bytes from the end of the file.
"""
import json
import struct
import sys

FORMATS = {"F32": "f", "F64": "d", "I32": "i", "I64": "q"}


def main(argv):
    out, specs, truncate = argv[0], [], 0
    rest = argv[1:]
    if "--truncate" in rest:
        i = rest.index("--truncate")
        truncate = int(rest[i + 1])
        rest = rest[:i] + rest[i + 2:]
    header, blobs, offset = {}, [], 0
    for spec in rest:
        name, dtype, dims = spec.split(":")
        shape = [int(d) for d in dims.split("x")] if dims else []
        count = 1
        for d in shape:
            count *= d
        fmt = FORMATS[dtype]
        vals = [i + 0.5 if fmt in "fd" else i for i in range(count)]
        blob = struct.pack("<%d%s" % (count, fmt), *vals)
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    data = struct.pack("<Q", len(text)) + text + b"".join(blobs)
    with open(out, "wb") as f:
        f.write(data[:len(data) - truncate])


if __name__ == "__main__":
    main(sys.argv[1:])
