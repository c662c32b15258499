#!/usr/bin/env python3
"""Writes mlp.safetensors: deterministic weights for mlp.nyx.

Standard library only, so it runs anywhere. Weights are uniform in
[-1/sqrt(fan_in), 1/sqrt(fan_in)] like PyTorch's nn.Linear default, drawn
from a fixed linear congruential generator so the file is reproducible.
"""
import json
import struct
import sys

# name, shape, fan-in of the layer the tensor belongs to
TENSORS = [("fc1.weight", [128, 64], 64), ("fc1.bias", [128], 64),
           ("fc2.weight", [10, 128], 128), ("fc2.bias", [10], 128)]


def values(count, bound, state):
    out = []
    for _ in range(count):
        state = (state * 6364136223846793005 + 1442695040888963407) % 2**64
        out.append(((state >> 40) / 2**24 * 2 - 1) * bound)
    return out, state


def main(path):
    header, blobs, offset, state = {}, [], 0, 12345
    for name, shape, fan_in in TENSORS:
        count = 1
        for d in shape:
            count *= d
        data, state = values(count, fan_in ** -0.5, state)
        blob = struct.pack("<%df" % count, *data)
        header[name] = {"dtype": "F32", "shape": shape,
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "mlp.safetensors")
