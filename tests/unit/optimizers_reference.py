#!/usr/bin/python3
"""Writes PyTorch's optimizer trajectories into optimizers_test.cc.

Each case runs a few steps of an optimizer on two small f64 parameters with
fixed gradients and a changing learning rate (torch.optim for SGD, Adam,
AdamW, RMSprop and Adagrad; Lion as lion-pytorch writes it and LAMB as the
paper does, neither being in torch.optim), records the parameters and the
optimizer state after every step, and replaces the block between the
GENERATED markers of optimizers_test.cc (next to this script).

Run with Debian's Python, which has torch: /usr/bin/python3 optimizers_reference.py
"""
import os
import re

import torch

torch.set_default_dtype(torch.float64)
gen = torch.Generator().manual_seed(7)

STEPS = 4
SHAPES = [(2, 3), (4,)]
LRS = [0.1, 0.05, 0.02, 0.01]


def uniform(shape, lo=-1.0, hi=1.0):
    return torch.rand(shape, generator=gen) * (hi - lo) + lo


PARAMS = [uniform(s) for s in SHAPES]
# Gradients of different scales per step, so clipping bites on some steps
# and not on others.
GRADS = [[uniform(s, -2.0, 2.0) * (0.3 if step % 2 else 1.0)
          for s in SHAPES] for step in range(STEPS)]


class Lion(torch.optim.Optimizer):
    """lion-pytorch's update (Chen et al., 2023)."""

    def __init__(self, params, lr, betas=(0.9, 0.99), weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=betas,
                                      weight_decay=weight_decay))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            lr, wd = group["lr"], group["weight_decay"]
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                state = self.state[p]
                if not state:
                    state["m"] = torch.zeros_like(p)
                m = state["m"]
                p.mul_(1 - lr * wd)
                update = m.clone().mul_(beta1).add(p.grad,
                                                   alpha=1 - beta1).sign_()
                p.add_(update, alpha=-lr)
                m.mul_(beta2).add_(p.grad, alpha=1 - beta2)


class Lamb(torch.optim.Optimizer):
    """LAMB (You et al., 2020) with bias correction; the trust ratio is
    ||w|| / ||update||, 1 when either norm is 0."""

    def __init__(self, params, lr, betas=(0.9, 0.999), eps=1e-6,
                 weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps,
                                      weight_decay=weight_decay))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["m"] = torch.zeros_like(p)
                    state["v"] = torch.zeros_like(p)
                state["step"] += 1
                t = state["step"]
                m, v = state["m"], state["v"]
                m.mul_(beta1).add_(p.grad, alpha=1 - beta1)
                v.mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
                m_hat = m / (1 - beta1 ** t)
                v_hat = v / (1 - beta2 ** t)
                update = m_hat / (v_hat.sqrt() + group["eps"])
                update = update + group["weight_decay"] * p
                w_norm, u_norm = p.norm(), update.norm()
                trust = (w_norm / u_norm).item() if (
                    w_norm > 0 and u_norm > 0) else 1.0
                p.add_(update, alpha=-group["lr"] * trust)


def torch_optim(cls, **kw):
    return lambda params: cls(params, lr=LRS[0], **kw)


# name -> (make optimizer, our state names -> torch state keys,
#          clip norm or None, initial params or None for PARAMS)
SGD_M = {"momentum": "momentum_buffer"}
ADAM = {"m": "exp_avg", "v": "exp_avg_sq"}
OWN = {"m": "m", "v": "v"}
CASES = {
    "sgd": (torch_optim(torch.optim.SGD), {}, None, None),
    "sgd_momentum": (torch_optim(torch.optim.SGD, momentum=0.9), SGD_M, None,
                     None),
    "sgd_nesterov_weight_decay": (
        torch_optim(torch.optim.SGD, momentum=0.8, nesterov=True,
                    weight_decay=0.05), SGD_M, None, None),
    "adam": (torch_optim(torch.optim.Adam), ADAM, None, None),
    "adam_weight_decay": (
        torch_optim(torch.optim.Adam, betas=(0.8, 0.95), eps=1e-6,
                    weight_decay=0.1), ADAM, None, None),
    "adamw": (torch_optim(torch.optim.AdamW), ADAM, None, None),
    "adamw_weight_decay": (
        torch_optim(torch.optim.AdamW, betas=(0.8, 0.99), weight_decay=0.3),
        ADAM, None, None),
    "rmsprop": (torch_optim(torch.optim.RMSprop), {"square_avg": "square_avg"},
                None, None),
    "rmsprop_momentum_centered": (
        torch_optim(torch.optim.RMSprop, alpha=0.9, momentum=0.5,
                    centered=True, weight_decay=0.1),
        {"square_avg": "square_avg", "momentum": "momentum_buffer",
         "grad_avg": "grad_avg"}, None, None),
    "adagrad": (torch_optim(torch.optim.Adagrad), {"sum": "sum"}, None, None),
    "adagrad_weight_decay": (
        torch_optim(torch.optim.Adagrad, eps=1e-6, weight_decay=0.2),
        {"sum": "sum"}, None, None),
    "lion": (torch_optim(Lion), {"m": "m"}, None, None),
    "lion_weight_decay": (torch_optim(Lion, betas=(0.85, 0.98),
                                      weight_decay=0.5), {"m": "m"}, None,
                          None),
    "lamb": (torch_optim(Lamb), OWN, None, None),
    "lamb_weight_decay": (torch_optim(Lamb, weight_decay=0.1), OWN, None,
                          None),
    # The second parameter starts at zero: its trust ratio is 1.
    "lamb_zero_param": (torch_optim(Lamb), OWN, None,
                        [PARAMS[0], torch.zeros(SHAPES[1])]),
    "adam_clip": (torch_optim(torch.optim.Adam), ADAM, 1.0, None),
    "sgd_momentum_clip": (torch_optim(torch.optim.SGD, momentum=0.9), SGD_M,
                          0.5, None),
}


def numbers(t):
    return "{" + ", ".join(repr(float(v)) for v in t.flatten().tolist()) + "}"


def trajectory(make, state_keys, clip, initial):
    params = [p.clone().requires_grad_(True) for p in (initial or PARAMS)]
    opt = make(params)
    steps = []
    for step in range(STEPS):
        for p, g in zip(params, GRADS[step]):
            p.grad = g.clone()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(params, clip)
        for group in opt.param_groups:
            group["lr"] = LRS[step]
        opt.step()
        steps.append(
            ([p.detach().clone() for p in params],
             [[opt.state[p][key].clone() for key in state_keys.values()]
              for p in params]))
    return [p.detach() for p in (initial or PARAMS)], steps


def generated_block():
    lines = [f"const std::vector<double> kLrs = {{{', '.join(map(repr, LRS))}}};"]
    lines.append("// kGrads[step][param]")
    lines.append("const std::vector<std::vector<std::vector<double>>> "
                 "kGrads = {")
    for grads in GRADS:
        lines.append("    {" + ", ".join(numbers(g) for g in grads) + "},")
    lines.append("};")
    lines.append("const std::map<std::string, Trajectory, std::less<>> "
                 "kTrajectories = {")
    for name, (make, keys, clip, initial) in CASES.items():
        start, steps = trajectory(make, keys, clip, initial)
        lines.append(f"    {{\"{name}\",")
        lines.append("     {{" + ", ".join(numbers(p) for p in start) + "},")
        lines.append("      {")
        for params, states in steps:
            param_text = ", ".join(numbers(p) for p in params)
            state_text = ", ".join(
                "{" + ", ".join(numbers(s) for s in per) + "}"
                for per in states)
            lines.append(f"          {{{{{param_text}}}, {{{state_text}}}}},")
        lines.append("      }}},")
    lines.append("};")
    return "\n".join(lines) + "\n"


def main():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "optimizers_test.cc")
    with open(path) as f:
        text = f.read()
    begin = "// BEGIN GENERATED by optimizers_reference.py\n"
    end = "// END GENERATED\n"
    pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise SystemExit(f"{path}: no generated block to replace")
    text = pattern.sub(lambda _: begin + generated_block() + end, text)
    with open(path, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
