#!/usr/bin/python3
"""PyTorch peers for bench/run, one process per thread count.

  torch_models.py model NAME --batch N --weights W.safetensors --input X.bin
                  --expect Y.bin --threads T [--device cuda] [timing options]
  torch_models.py qmodel NAME ... (as model)
  torch_models.py chain --input X.bin --a A --b B --expect Y.bin
                  --threads T [--device cuda] [timing options]

`model` builds the same network as the Nyx standard library (stdlib/models.h:
mlp, resnet18, gpt2_block) from torch.nn layers, loads the weights from the
safetensors file Nyx compiled in (read with NumPy), and runs it in eager mode
and as torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.trace(
model.eval()))). `qmodel` runs the model with its nn.Linear layers
quantized to int8 by torch.ao.quantization.quantize_dynamic (the oneDNN
quantized engine: int8 weights per tensor, activation ranges computed on
every call). `chain` runs tanh(x*a + b) * sigmoid(x) eagerly.

With --device cuda (bench/cuda/run) the model and data live on the GPU and
every timed call waits for the device to finish.

Before timing anything, every variant's output on the given input is
compared with the Nyx output in Y.bin: each element must be within 1e-3 of
the largest magnitude in Y (relative 1e-3 of the output's scale; 5e-2 for
`qmodel`, whose int8 results differ from Nyx's by two quantizations). A
mismatch exits with status 3 and says by how much. Each timed variant
prints one line, as the C harnesses do:

  result peer=torch-eager median_ms=1.234 reps=50 threads=2
"""
import argparse
import json
import math
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

TOLERANCE = 1e-3
QUANTIZED_TOLERANCE = 5e-2


def read_safetensors(path):
    """Every tensor of a safetensors file as a NumPy array, by name."""
    with open(path, "rb") as f:
        data = f.read()
    (header_len,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + header_len])
    base = 8 + header_len
    dtypes = {"F32": "<f4", "F64": "<f8", "I32": "<i4", "I64": "<i8"}
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        array = np.frombuffer(data[base + start:base + end],
                              dtype=dtypes[info["dtype"]])
        tensors[name] = array.reshape(info["shape"]).copy()
    return tensors


# ---- the models, named as the Nyx stdlib names its weights -----------------

class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 512)
        self.fc2 = nn.Linear(512, 512)
        self.fc3 = nn.Linear(512, 10)

    def forward(self, x):
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, 0, bias=False),
                nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        skip = x if self.downsample is None else self.downsample(x)
        return F.relu(y + skip)


class ResNet18(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        cin = 64
        for stage, cout in enumerate([64, 128, 256, 512]):
            blocks = []
            for block in range(2):
                stride = 2 if stage > 0 and block == 0 else 1
                blocks.append(BasicBlock(cin, cout, stride))
                cin = cout
            setattr(self, f"layer{stage + 1}", nn.Sequential(*blocks))
        self.fc = nn.Linear(512, 1000)

    def forward(self, x):
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return self.fc(x)


class CausalSelfAttention(nn.Module):
    def __init__(self, d, heads, seq):
        super().__init__()
        self.heads = heads
        self.scale = 1.0 / math.sqrt(d // heads)
        self.c_attn = nn.Linear(d, 3 * d)
        self.c_proj = nn.Linear(d, d)
        mask = torch.full((seq, seq), float("-inf")).triu(1)
        self.register_buffer("mask", mask, persistent=False)

    def forward(self, x):
        b, t, d = x.shape
        dh = d // self.heads
        q, k, v = self.c_attn(x).split(d, dim=2)
        q = q.view(b, t, self.heads, dh).transpose(1, 2)
        k = k.view(b, t, self.heads, dh).transpose(1, 2)
        v = v.view(b, t, self.heads, dh).transpose(1, 2)
        scores = (q @ k.transpose(-2, -1)) * self.scale + self.mask
        y = F.softmax(scores, dim=-1) @ v
        return self.c_proj(y.transpose(1, 2).reshape(b, t, d))


class GPT2MLP(nn.Module):
    def __init__(self, d, hidden):
        super().__init__()
        self.c_fc = nn.Linear(d, hidden)
        self.c_proj = nn.Linear(hidden, d)

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x), approximate="tanh"))


class GPT2Block(nn.Module):
    def __init__(self, d=768, heads=12, seq=128, hidden=3072):
        super().__init__()
        self.ln_1 = nn.LayerNorm(d, eps=1e-5)
        self.attn = CausalSelfAttention(d, heads, seq)
        self.ln_2 = nn.LayerNorm(d, eps=1e-5)
        self.mlp = GPT2MLP(d, hidden)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


MODELS = {"mlp": MLP, "resnet18": ResNet18, "gpt2_block": GPT2Block}


def load_weights(model, tensors):
    """Copies the Nyx weights in; Nyx keeps linear weights as [in, out], the
    transpose of nn.Linear's. Every weight of either side must be used."""
    linear = {name for name, m in model.named_modules()
              if isinstance(m, nn.Linear)}
    state = {}
    for name, array in tensors.items():
        owner = name.rsplit(".", 1)[0]
        if owner in linear and name.endswith(".weight"):
            array = array.T
        state[name] = torch.from_numpy(np.ascontiguousarray(array))
    result = model.load_state_dict(state, strict=False)
    missing = [k for k in result.missing_keys
               if not k.endswith("num_batches_tracked")]
    if missing or result.unexpected_keys:
        sys.exit(f"torch_models.py: weights do not match the model: missing "
                 f"{missing}, unexpected {result.unexpected_keys}")


# ---- checking and timing ---------------------------------------------------

def check(peer, got, expect, tolerance=TOLERANCE):
    got = got.detach().cpu().numpy().reshape(-1)
    if got.size != expect.size:
        print(f"torch_models.py: {peer} gives {got.size} values; Nyx gave "
              f"{expect.size}", file=sys.stderr)
        sys.exit(3)
    scale = float(np.max(np.abs(expect))) or 1.0
    err = float(np.max(np.abs(got.astype(np.float64) - expect)))
    if not err <= tolerance * scale:
        print(f"torch_models.py: {peer} disagrees with Nyx: max |difference| "
              f"{err:.3g} against output scale {scale:.3g}; expected at most "
              f"{tolerance:g} of the scale", file=sys.stderr)
        sys.exit(3)
    print(f"check peer={peer} max_abs_diff={err:.3g} scale={scale:.3g}")


def time_calls(peer, fn, opts):
    if opts.device == "cuda":
        call = fn

        def fn():
            call()
            torch.cuda.synchronize()
    for _ in range(opts.warmup):
        fn()
    times = []
    start = time.perf_counter()
    while len(times) < opts.max_reps and (
            len(times) < opts.min_reps or time.perf_counter() - start < opts.budget):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    n = len(times)
    median = times[n // 2] if n % 2 else 0.5 * (times[n // 2 - 1] + times[n // 2])
    print(f"result peer={peer} median_ms={median * 1e3:.6f} reps={n} "
          f"threads={torch.get_num_threads()}", flush=True)


def load_model(opts):
    """The model with the weights, and the input."""
    model = MODELS[opts.name]().eval()
    load_weights(model, read_safetensors(opts.weights))
    model = model.to(opts.device)
    shapes = {"mlp": (opts.batch, 784), "resnet18": (opts.batch, 3, 224, 224),
              "gpt2_block": (opts.batch, 128, 768)}
    x = torch.from_numpy(np.fromfile(opts.input, dtype="<f4")
                         .reshape(shapes[opts.name])).to(opts.device)
    return model, x


def run_quantized_model(opts, expect):
    model, x = load_model(opts)
    torch.backends.quantized.engine = "onednn"
    quantized = torch.ao.quantization.quantize_dynamic(
        model, {nn.Linear}, dtype=torch.qint8)
    with torch.inference_mode():
        check("torch-int8", quantized(x), expect, QUANTIZED_TOLERANCE)
        time_calls("torch-int8", lambda: quantized(x), opts)


def run_model(opts, expect):
    model, x = load_model(opts)
    with torch.inference_mode():
        check("torch-eager", model(x), expect)
    with torch.no_grad():
        jit = torch.jit.freeze(torch.jit.trace(model, x))
        jit = torch.jit.optimize_for_inference(jit)
        # The first calls specialize the graph; check what is then timed.
        for _ in range(2):
            jit(x)
        check("torch-jit", jit(x), expect)
    with torch.inference_mode():
        time_calls("torch-eager", lambda: model(x), opts)
    with torch.no_grad():
        time_calls("torch-jit", lambda: jit(x), opts)


def run_chain(opts, expect):
    x = torch.from_numpy(np.fromfile(opts.input, dtype="<f4")).to(opts.device)
    a = torch.tensor(opts.a, device=opts.device)
    b = torch.tensor(opts.b, device=opts.device)

    def chain():
        return torch.tanh(x * a + b) * torch.sigmoid(x)

    with torch.inference_mode():
        check("torch-eager", chain(), expect)
        time_calls("torch-eager", chain, opts)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("what", choices=["model", "qmodel", "chain"])
    p.add_argument("name", nargs="?", choices=sorted(MODELS))
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--weights")
    p.add_argument("--input", required=True)
    p.add_argument("--expect", required=True)
    p.add_argument("--a", type=float)
    p.add_argument("--b", type=float)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--min-reps", type=int, default=5)
    p.add_argument("--max-reps", type=int, default=10000)
    p.add_argument("--budget", type=float, default=1.0)
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    opts = p.parse_args()
    if opts.what != "chain" and (not opts.name or not opts.weights):
        p.error(f"{opts.what} needs a NAME and --weights")
    if opts.what == "chain" and (opts.a is None or opts.b is None):
        p.error("chain needs --a and --b")

    torch.set_num_threads(opts.threads)
    torch.set_num_interop_threads(1)
    expect = np.fromfile(opts.expect, dtype="<f4").astype(np.float64)
    if opts.what == "model":
        run_model(opts, expect)
    elif opts.what == "qmodel":
        run_quantized_model(opts, expect)
    else:
        run_chain(opts, expect)


if __name__ == "__main__":
    main()
