#!/usr/bin/env python3
"""Writes the benchmark graphs as Nyx text IR, with random weights.

  make_models.py OUTDIR [--weights]

OUTDIR gets mlp.nyx, resnet18.nyx, gpt2_block.nyx and, with --weights, a
.safetensors file beside each (uniform random values scaled by 1/sqrt(fan_in),
seeded, so runs are repeatable).
"""
import json
import os
import struct
import sys

import numpy as np


class Graph:
    """Accumulates params and ops of one @main function."""

    def __init__(self, name):
        self.name = name
        self.params = []  # (name, shape)
        self.inputs = []  # (value, shape)
        self.ops = []
        self.count = 0

    def fresh(self, hint):
        self.count += 1
        return f"%{hint}{self.count}"

    def input(self, name, shape):
        self.inputs.append((f"%{name}", shape))
        return f"%{name}"

    def param(self, name, shape):
        self.params.append((name, shape))
        v = self.fresh("w")
        self.ops.append(f"{v} = param() {{name = @{name}}} : {ty(shape)}")
        return v

    def op(self, name, operands, attrs=None, hint="t"):
        v = self.fresh(hint)
        a = ""
        if attrs:
            a = " {" + ", ".join(f"{k} = {val}" for k, val in attrs.items()) + "}"
        self.ops.append(f"{v} = {name}({', '.join(operands)}){a}")
        return v

    def text(self, outputs):
        lines = [f"module @{self.name}", ""]
        for n, s in self.params:
            lines.append(f"param @{n} : {ty(s)}")
        args = ", ".join(f"{v}: {ty(s)}" for v, s in self.inputs)
        lines.append("")
        lines.append(f"func @main({args}) -> ({', '.join(ty(s) for _, s in outputs)}) {{")
        lines += ["  " + o for o in self.ops]
        lines.append("  return " + ", ".join(v for v, _ in outputs))
        lines.append("}")
        return "\n".join(lines) + "\n"


def ty(shape):
    return "f32[" + ",".join(str(d) for d in shape) + "]"


def ints(xs):
    return "[" + ", ".join(str(x) for x in xs) + "]"


def mlp():
    g = Graph("mlp")
    h = g.input("x", [32, 784])
    dims = [784, 512, 512, 10]
    for i in range(3):
        w = g.param(f"fc{i}.weight", [dims[i], dims[i + 1]])
        b = g.param(f"fc{i}.bias", [dims[i + 1]])
        h = g.op("add", [g.op("matmul", [h, w]), b])
        if i < 2:
            h = g.op("relu", [h])
    return g, [(h, [32, 10])]


def resnet18():
    g = Graph("resnet18")
    x = g.input("x", [1, 3, 224, 224])
    shape = [1, 3, 224, 224]

    def conv_bn(x, shape, cout, k, stride, pad, name, relu=True):
        n, c, h, w = shape
        wt = g.param(f"{name}.weight", [cout, c, k, k])
        y = g.op("conv2d", [x, wt], {"strides": ints([stride, stride]),
                                     "padding": ints([pad] * 4)})
        oh = (h + 2 * pad - k) // stride + 1
        ow = (w + 2 * pad - k) // stride + 1
        bn = [g.param(f"{name}.bn.{p}", [cout])
              for p in ("scale", "bias", "mean", "var")]
        y = g.op("batch_norm", [y] + bn)
        if relu:
            y = g.op("relu", [y])
        return y, [n, cout, oh, ow]

    y, shape = conv_bn(x, shape, 64, 7, 2, 3, "conv1")
    y = g.op("max_pool2d", [y], {"kernel": ints([3, 3]), "strides": ints([2, 2]),
                                 "padding": ints([1, 1, 1, 1])})
    shape = [1, 64, 56, 56]
    for stage, cout in enumerate([64, 128, 256, 512]):
        for block in range(2):
            stride = 2 if stage > 0 and block == 0 else 1
            name = f"layer{stage + 1}.{block}"
            a, s1 = conv_bn(y, shape, cout, 3, stride, 1, name + ".conv1")
            b, s2 = conv_bn(a, s1, cout, 3, 1, 1, name + ".conv2", relu=False)
            if stride != 1 or shape[1] != cout:
                skip, _ = conv_bn(y, shape, cout, 1, stride, 0,
                                  name + ".downsample", relu=False)
            else:
                skip = y
            y = g.op("relu", [g.op("add", [b, skip])])
            shape = s2
    y = g.op("avg_pool2d", [y], {"kernel": ints([7, 7])})
    y = g.op("reshape", [y], {"shape": ints([1, 512])})
    w = g.param("fc.weight", [512, 1000])
    b = g.param("fc.bias", [1000])
    y = g.op("add", [g.op("matmul", [y, w]), b])
    return g, [(y, [1, 1000])]


def gpt2_block(t=128, d=768, heads=12, hidden=3072):
    g = Graph("gpt2_block")
    x = g.input("x", [t, d])
    dh = d // heads

    def layer_norm(v, name):
        s = g.param(f"{name}.scale", [d])
        b = g.param(f"{name}.bias", [d])
        return g.op("layer_norm", [v, s, b])

    def linear(v, din, dout, name):
        w = g.param(f"{name}.weight", [din, dout])
        b = g.param(f"{name}.bias", [dout])
        return g.op("add", [g.op("matmul", [v, w]), b])

    h = layer_norm(x, "ln1")
    qkv = linear(h, d, 3 * d, "attn.qkv")

    def head_split(i, perm):
        part = g.op("slice", [qkv], {"starts": ints([i * d]),
                                     "ends": ints([(i + 1) * d]),
                                     "axes": ints([1])})
        part = g.op("reshape", [part], {"shape": ints([t, heads, dh])})
        return g.op("transpose", [part], {"perm": ints(perm)})

    q = head_split(0, [1, 0, 2])  # [heads, t, dh]
    k = head_split(1, [1, 2, 0])  # [heads, dh, t]
    v = head_split(2, [1, 0, 2])  # [heads, t, dh]
    scores = g.op("matmul", [q, k])
    scale = g.op("constant", [], {"value": f"dense<{1.0 / np.sqrt(dh)!r}> : f32[]"})
    scores = g.op("mul", [scores, scale])
    # The causal mask: 0 on and below the diagonal, -inf above.
    mask = np.where(np.tril(np.ones((t, t), dtype=bool)), 0.0, -np.inf)
    rows = ", ".join("[" + ", ".join("0.0" if m == 0 else "-inf" for m in row) + "]"
                     for row in mask)
    mask_v = g.op("constant", [], {"value": f"dense<[{rows}]> : f32[{t},{t}]"})
    scores = g.op("add", [scores, mask_v])
    probs = g.op("softmax", [scores], {"axis": -1})
    att = g.op("matmul", [probs, v])  # [heads, t, dh]
    att = g.op("transpose", [att], {"perm": ints([1, 0, 2])})
    att = g.op("reshape", [att], {"shape": ints([t, d])})
    x2 = g.op("add", [x, linear(att, d, d, "attn.proj")])
    h = layer_norm(x2, "ln2")
    h = g.op("gelu", [linear(h, d, hidden, "mlp.fc")], {"approximate": '"tanh"'})
    y = g.op("add", [x2, linear(h, hidden, d, "mlp.proj")])
    return g, [(y, [t, d])]


def write_safetensors(path, params, seed):
    rng = np.random.default_rng(seed)
    header, blobs, offset = {}, [], 0
    for name, shape in params:
        fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else shape[0]
        if name.endswith(".var"):
            data = rng.uniform(0.5, 1.5, shape)
        elif name.endswith(".scale"):
            data = rng.uniform(0.8, 1.2, shape)
        else:
            bound = 1.0 / np.sqrt(max(fan_in, 1))
            data = rng.uniform(-bound, bound, shape)
        raw = data.astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    head = json.dumps(header).encode()
    head += b" " * (-len(head) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for b in blobs:
            f.write(b)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for seed, build in enumerate([mlp, resnet18, gpt2_block]):
        g, outputs = build()
        with open(os.path.join(out, g.name + ".nyx"), "w") as f:
            f.write(g.text(outputs))
        if "--weights" in sys.argv[2:]:
            write_safetensors(os.path.join(out, g.name + ".safetensors"),
                              g.params, seed)


if __name__ == "__main__":
    main()
