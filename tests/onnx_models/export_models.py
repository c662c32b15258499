#!/usr/bin/python3
"""Exports small real PyTorch models to ONNX for the end-to-end model tests.

For each model NAME this writes, under OUT_DIR/NAME/:
  model.onnx    the model in eval mode, graph input "input", output "output"
  input.npy     a fixed random input (float32)
  expected.npy  PyTorch's output on that input (float32)

Weights are random (fixed seeds); batch norm layers get random running
statistics and affine parameters so that they do real work.

Usage: export_models.py OUT_DIR [NAME...]   (default: every model)
Exits with 77 when torch or torchvision cannot be imported.
"""
import math
import os
import sys
import warnings

try:
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import torchvision
except ImportError as e:  # the caller turns 77 into a skipped test
    print(f"skipping: cannot import {e.name} ({e})", file=sys.stderr)
    sys.exit(77)

# PyTorch 1.13's default export opset.
OPSET = 14


def randomize_batch_norms(model, generator):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            with torch.no_grad():
                m.weight.copy_(1 + 0.1 * torch.randn(c, generator=generator))
                m.bias.copy_(0.1 * torch.randn(c, generator=generator))
                m.running_mean.copy_(0.1 * torch.randn(c, generator=generator))
                m.running_var.copy_(
                    0.5 + torch.rand(c, generator=generator))


def resnet18(generator):
    model = torchvision.models.resnet18(weights=None)
    randomize_batch_norms(model, generator)
    return model, (1, 3, 224, 224)


def mlp(generator):
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512),
                          nn.ReLU(), nn.Linear(512, 10))
    return model, (4, 784)


class SmallCnn(nn.Module):
    """Two conv-bn-relu-maxpool stages and a linear classifier."""

    def __init__(self):
        super().__init__()

        def stage(cin, cout):
            return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1),
                                 nn.BatchNorm2d(cout), nn.ReLU(),
                                 nn.MaxPool2d(2))

        self.features = nn.Sequential(stage(3, 16), stage(16, 32))
        self.classifier = nn.Linear(32 * 8 * 8, 10)

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


def small_cnn(generator):
    model = SmallCnn()
    randomize_batch_norms(model, generator)
    return model, (2, 3, 32, 32)


class Gpt2Block(nn.Module):
    """A pre-norm GPT-2 transformer block: causal multi-head self-attention
    and a GELU MLP, each around a residual connection, written the way
    GPT-2 implementations are (shapes read from the input at run time)."""

    def __init__(self, d_model, n_head, max_len):
        super().__init__()
        self.n_head = n_head
        self.ln_1 = nn.LayerNorm(d_model)
        self.c_attn = nn.Linear(d_model, 3 * d_model)
        self.c_proj = nn.Linear(d_model, d_model)
        self.ln_2 = nn.LayerNorm(d_model)
        self.c_fc = nn.Linear(d_model, 4 * d_model)
        self.mlp_proj = nn.Linear(4 * d_model, d_model)
        mask = torch.tril(torch.ones(max_len, max_len, dtype=torch.bool))
        self.register_buffer("mask", mask.view(1, 1, max_len, max_len))

    def attention(self, x):
        b, t, c = x.size()
        q, k, v = self.c_attn(x).split(c, dim=2)
        hd = c // self.n_head
        q = q.view(b, t, self.n_head, hd).transpose(1, 2)
        k = k.view(b, t, self.n_head, hd).transpose(1, 2)
        v = v.view(b, t, self.n_head, hd).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hd))
        att = att.masked_fill(~self.mask[:, :, :t, :t], float("-inf"))
        att = F.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(b, t, c)
        return self.c_proj(y)

    def forward(self, x):
        x = x + self.attention(self.ln_1(x))
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x))))


def gpt2_block(generator):
    # d = 384 keeps the test quick; 12 heads of 32 as in GPT-2's layout.
    return Gpt2Block(d_model=384, n_head=12, max_len=64), (1, 16, 384)


MODELS = {
    "resnet18": resnet18,
    "mlp": mlp,
    "small_cnn": small_cnn,
    "gpt2_block": gpt2_block,
}


def export(name, out_dir):
    seed = sum(map(ord, name))
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model, input_shape = MODELS[name](generator)
    model.eval()
    x = torch.randn(*input_shape, generator=generator)
    with torch.no_grad():
        y = model(x)
    d = os.path.join(out_dir, name)
    os.makedirs(d, exist_ok=True)
    torch.onnx.export(model, (x,), os.path.join(d, "model.onnx"),
                      input_names=["input"], output_names=["output"],
                      opset_version=OPSET, do_constant_folding=True)
    np.save(os.path.join(d, "input.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(d, "expected.npy"), y.numpy().astype(np.float32))
    print(f"{name}: input {tuple(x.shape)} -> output {tuple(y.shape)} in {d}")


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    names = argv[2:] or list(MODELS)
    for name in names:
        if name not in MODELS:
            print(f"unknown model '{name}'; expected one of "
                  f"{', '.join(MODELS)}", file=sys.stderr)
            return 2
    torch.set_num_threads(1)
    # Reading sizes from the input (x.size()) is what GPT-2 code does; the
    # tracer's warning that they become constants is expected here.
    warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
    for name in names:
        export(name, argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
