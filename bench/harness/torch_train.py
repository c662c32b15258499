#!/usr/bin/python3
"""The PyTorch side of bench/train: training steps in eager mode.

  torch_train.py MODEL --batch B --optimizer sgd|adam --lr R [--momentum M]
                 --params P.bin --param-bytes N1,N2,... --x X.bin
                 --labels L.bin --batches N --expect-losses L0,L1,...
                 --threads T [--warmup --min-reps --max-reps --budget]

MODEL is `mlp` (784-512-512-10, relu) or `cnn` (conv 3x3 to 16, relu,
max_pool 2x2, conv 3x3 to 32, relu, max_pool 2x2, flatten, linear to 10),
the networks of bench/train_models. P.bin holds the initial parameters as
the Nyx step's train_step harness wrote them: in declaration order, which is
the order of model.parameters(), each of the byte size given in
--param-bytes; Nyx keeps linear weights as [in, out], so they are transposed
for nn.Linear, and convolution weights share PyTorch's layout.

The script takes N steps from those parameters, batch i of X.bin and L.bin
at step i, each one zero_grad(set_to_none=True), cross-entropy of the
model's output, backward and the optimizer's step, with the model in
train(). Every step's loss must be within relative 1e-3 of the Nyx loss of
that step in --expect-losses, or the script exits with status 3 before
timing anything. Then it times further steps (cycling through the batches),
printing, as the C harnesses do:

  loss step=0 value=2.30258512
  result median_ms=1.234 reps=50 threads=2
"""
import argparse
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

TOLERANCE = 1e-3  # relative, per step's loss


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 512)
        self.fc2 = nn.Linear(512, 512)
        self.fc3 = nn.Linear(512, 10)

    def forward(self, x):
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc = nn.Linear(32 * 7 * 7, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(torch.flatten(x, 1))


MODELS = {"mlp": (MLP, (784,)), "cnn": (CNN, (1, 28, 28))}


def fail(msg):
    print(f"torch_train.py: {msg}", file=sys.stderr)
    sys.exit(3)


def load_params(model, path, param_bytes):
    """Copies the Nyx initial parameters into the model, in order."""
    data = np.fromfile(path, dtype="<f4")
    linear = {name for name, m in model.named_modules()
              if isinstance(m, nn.Linear)}
    params = list(model.named_parameters())
    if len(params) != len(param_bytes):
        fail(f"the model has {len(params)} parameters; the Nyx step has "
             f"{len(param_bytes)}")
    offset = 0
    with torch.no_grad():
        for (name, p), nbytes in zip(params, param_bytes):
            if p.numel() * 4 != nbytes:
                fail(f"parameter {name} has {p.numel() * 4} bytes; the Nyx "
                     f"parameter in its place has {nbytes}")
            array = data[offset:offset + p.numel()]
            offset += p.numel()
            if name.rsplit(".", 1)[0] in linear and name.endswith(".weight"):
                array = array.reshape(p.shape[::-1]).T  # [in, out] -> [out, in]
            p.copy_(torch.from_numpy(np.ascontiguousarray(array))
                    .reshape(p.shape))
    if offset != data.size:
        fail(f"{path} has {data.size} floats; the parameters take {offset}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("model", choices=sorted(MODELS))
    p.add_argument("--batch", type=int, required=True)
    p.add_argument("--optimizer", choices=["sgd", "adam"], required=True)
    p.add_argument("--lr", type=float, required=True)
    p.add_argument("--momentum", type=float, default=0.0)
    p.add_argument("--params", required=True)
    p.add_argument("--param-bytes", required=True)
    p.add_argument("--x", required=True)
    p.add_argument("--labels", required=True)
    p.add_argument("--batches", type=int, required=True)
    p.add_argument("--expect-losses", required=True)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--min-reps", type=int, default=5)
    p.add_argument("--max-reps", type=int, default=10000)
    p.add_argument("--budget", type=float, default=1.0)
    opts = p.parse_args()

    torch.set_num_threads(opts.threads)
    torch.set_num_interop_threads(1)
    make, sample = MODELS[opts.model]
    model = make()
    load_params(model, opts.params,
                [int(n) for n in opts.param_bytes.split(",")])
    model.train()
    if opts.optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=opts.lr,
                              momentum=opts.momentum)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=opts.lr)

    xs = torch.from_numpy(np.fromfile(opts.x, dtype="<f4")
                          .reshape(opts.batches, opts.batch, *sample))
    ys = torch.from_numpy(np.fromfile(opts.labels, dtype="<i8")
                          .reshape(opts.batches, opts.batch))
    state = {"next": 0}

    def step():
        b = state["next"] % opts.batches
        state["next"] += 1
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(xs[b]), ys[b])
        loss.backward()
        opt.step()
        return loss

    expect = [float(v) for v in opts.expect_losses.split(",")]
    if len(expect) != opts.batches:
        fail(f"{len(expect)} expected losses for {opts.batches} batches")
    for i, want in enumerate(expect):
        got = float(step())
        print(f"loss step={i} value={got:.9g}")
        if not abs(got - want) <= TOLERANCE * max(abs(got), abs(want)):
            fail(f"step {i}: PyTorch's loss {got:.9g}, Nyx's {want:.9g}; "
                 f"expected them within relative {TOLERANCE:g}")
    sys.stdout.flush()

    for _ in range(opts.warmup):
        step()
    times = []
    start = time.perf_counter()
    while len(times) < opts.max_reps and (
            len(times) < opts.min_reps or
            time.perf_counter() - start < opts.budget):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    times.sort()
    n = len(times)
    median = times[n // 2] if n % 2 else 0.5 * (times[n // 2 - 1] +
                                                 times[n // 2])
    print(f"result median_ms={median * 1e3:.6f} reps={n} "
          f"threads={torch.get_num_threads()}", flush=True)


if __name__ == "__main__":
    main()
