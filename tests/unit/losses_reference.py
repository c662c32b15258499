#!/usr/bin/python3
"""Writes PyTorch's values of the stdlib losses into losses_test.cc.

Draws fixed inputs (f64, from a seeded generator), evaluates each case of
the test with torch (1.13) and its gradient with respect to the model
outputs (and the Hessian-vector product with respect to the first of them
along a fixed direction), and replaces the block between the GENERATED markers of
losses_test.cc (next to this script) with the inputs and those numbers.

Run with Debian's Python, which has torch:  /usr/bin/python3 losses_reference.py
"""
import os
import re

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
gen = torch.Generator().manual_seed(20240611)


def uniform(shape, lo=-2.0, hi=2.0):
    return torch.rand(shape, generator=gen) * (hi - lo) + lo


N, C, D = 4, 5, 3

inputs = {
    "pred": uniform((N, C)),
    "target": uniform((N, C)),
    "logits": uniform((N, C), -3.0, 3.0),
    "labels": torch.tensor([2, 0, 4, 2]),
    # BCE targets in [0, 1], some exactly 0 or 1.
    "probs": torch.cat([torch.rand((N, C - 2), generator=gen),
                        torch.tensor([[0.0, 1.0]] * N)], dim=1),
    "log_probs": F.log_softmax(uniform((N, C)), dim=1),
    # KL targets: a distribution per row, with a zero in row 1.
    "kl_target": F.softmax(uniform((N, C)), dim=1) *
    torch.tensor([[1.0] * C, [0.0] + [1.0] * (C - 1), [1.0] * C, [1.0] * C]),
    "x1": uniform((N, D)),
    "x2": uniform((N, D)),
    "y": torch.tensor([1.0, -1.0, -1.0, 1.0]),
    "anchor": uniform((N, D)),
    "positive": uniform((N, D)),
    "negative": uniform((N, D)),
    # Directions for the Hessian-vector products.
    "direction_nc": uniform((N, C)),
    "direction_nd": uniform((N, D)),
}
# Row 1 of the KL target renormalized after its zero.
inputs["kl_target"] = inputs["kl_target"] / inputs["kl_target"].sum(
    dim=1, keepdim=True)
WEIGHTS = [0.5, 2.0, 1.0, 0.25, 3.0]


def focal(logits, labels, gamma, alpha):
    logp_t = F.log_softmax(logits, dim=1).gather(1, labels[:, None])[:, 0]
    p_t = logp_t.exp()
    return (-(alpha if alpha is not None else 1.0) *
            (1 - p_t) ** gamma * logp_t).mean()


def triplet(margin, p):
    return lambda a, pos, neg: F.triplet_margin_loss(
        a, pos, neg, margin=margin, p=p)


w = torch.tensor(WEIGHTS)
# name -> (differentiated inputs, other inputs, torch function)
CASES = {
    "mse": (["pred"], ["target"], F.mse_loss),
    "l1": (["pred"], ["target"], F.l1_loss),
    "huber": (["pred"], ["target"], lambda p, t: F.huber_loss(p, t)),
    "huber_delta_0_5": (["pred"], ["target"],
                        lambda p, t: F.huber_loss(p, t, delta=0.5)),
    "cross_entropy": (["logits"], ["labels"], F.cross_entropy),
    "cross_entropy_smoothing": (
        ["logits"], ["labels"],
        lambda x, y: F.cross_entropy(x, y, label_smoothing=0.1)),
    "cross_entropy_weights": (
        ["logits"], ["labels"], lambda x, y: F.cross_entropy(x, y, weight=w)),
    "cross_entropy_weights_smoothing": (
        ["logits"], ["labels"],
        lambda x, y: F.cross_entropy(x, y, weight=w, label_smoothing=0.2)),
    "bce": (["logits"], ["probs"], F.binary_cross_entropy_with_logits),
    "focal": (["logits"], ["labels"], lambda x, y: focal(x, y, 2.0, 0.25)),
    "focal_gamma_1_5_no_alpha": (["logits"], ["labels"],
                                 lambda x, y: focal(x, y, 1.5, None)),
    "kl_div": (["log_probs"], ["kl_target"],
               lambda x, t: F.kl_div(x, t, reduction="batchmean")),
    "cosine_embedding": (["x1", "x2"], ["y"], F.cosine_embedding_loss),
    "cosine_embedding_margin": (
        ["x1", "x2"], ["y"],
        lambda a, b, y: F.cosine_embedding_loss(a, b, y, margin=0.3)),
    "triplet_margin": (["anchor", "positive", "negative"], [],
                       F.triplet_margin_loss),
    "triplet_margin_p1": (["anchor", "positive", "negative"], [],
                          triplet(0.5, 1.0)),
    "triplet_margin_p3": (["anchor", "positive", "negative"], [],
                          triplet(2.0, 3.0)),
}


def cpp_name(name):
    return "k" + "".join(part.capitalize() for part in name.split("_"))


def numbers(t):
    return ", ".join(repr(float(v)) for v in t.detach().flatten().tolist())


def generated_block():
    lines = []
    for name, t in inputs.items():
        if t.dtype == torch.int64:
            values = ", ".join(str(int(v)) for v in t.detach().flatten().tolist())
            lines.append(f"const std::vector<double> {cpp_name(name)} = {{{values}}};")
        else:
            lines.append(
                f"const std::vector<double> {cpp_name(name)} = {{{numbers(t)}}};")
    lines.append(f"const std::vector<double> kClassWeights = "
                 f"{{{numbers(w)}}};")
    lines.append("const std::map<std::string, Reference, std::less<>> "
                 "kReference = {")
    for name, (wrt, rest, fn) in CASES.items():
        args = {k: inputs[k].clone().requires_grad_(True) for k in wrt}
        value = fn(*args.values(), *(inputs[k] for k in rest))
        grads = torch.autograd.grad(value, list(args.values()),
                                    create_graph=True)
        first = args[wrt[0]]
        direction = inputs["direction_nc" if first.shape[1] == C else
                           "direction_nd"]
        # Zeros where the gradient is piecewise constant (torch gives no
        # gradient, or a storage-less zero tensor).
        hvp = torch.zeros(first.shape)
        if grads[0].requires_grad:
            h, = torch.autograd.grad((grads[0] * direction).sum(), first,
                                     allow_unused=True)
            if h is not None:
                hvp = hvp + h
        grad_text = ", ".join(f"{{{numbers(g)}}}" for g in grads)
        lines.append(f"    {{\"{name}\", {{{repr(float(value.detach()))}, "
                     f"{{{grad_text}}}, {{{numbers(hvp)}}}}}}},")
    lines.append("};")
    return "\n".join(lines) + "\n"


def main():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "losses_test.cc")
    with open(path) as f:
        text = f.read()
    begin = "// BEGIN GENERATED by losses_reference.py\n"
    end = "// END GENERATED\n"
    pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise SystemExit(f"{path}: no generated block to replace")
    text = pattern.sub(lambda _: begin + generated_block() + end, text)
    with open(path, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
