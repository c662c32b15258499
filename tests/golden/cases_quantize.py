"""Golden cases for quantize, dequantize and requantize (docs/ops.md,
"Quantization"): NumPy's own float32/float64 division and multiplication,
np.rint (halves to even) and np.clip, per tensor and per channel, with ties,
saturation at both ends, NaN and infinities."""

import numpy as np

from make_golden import from_bf16, op_case, rng, to_bf16
from cases_elementwise import FLOATS, dname, floats, ints, make

# Quotients x / 0.25 that are ties (1.5, 2.5, -0.5, ...), saturate (both
# ends, infinities) or are NaN.
EDGES = [0.375, 0.625, -0.125, -0.375, 0.125, 31.875, -32.125, 31.625,
         -31.375, 1e30, -1e30, np.inf, -np.inf, np.nan, 0.0, -0.0]


def compute(a, dt):
    """`a` in the compute type of `dt`: float64 for f64, float32 otherwise."""
    if dt == "bf16":
        return from_bf16(np.atleast_1d(a)).reshape(np.shape(a))
    return np.asarray(a).astype(np.float64 if dt == np.float64 else np.float32)


def to_i8(v, zp):
    q = np.clip(np.rint(v) + zp.astype(np.float64), -128, 127)
    q = np.where(np.isnan(v), zp, q)
    return q.astype(np.int8)


def quantize_cases():
    cases = []
    for j, dt in enumerate(FLOATS):
        r = rng(2600 + j)
        # Per channel of axis 1: scale and zero point [3, 1].
        x = floats(r, (2, 3, 5), dt, -40.0, 40.0)
        x.reshape(-1)[:len(EDGES)] = make(EDGES, dt)
        s = make([[0.25], [0.5], [-0.75]], dt)
        zp = np.array([[0], [-3], [5]], dtype=np.int8)
        want = to_i8(compute(x, dt) / compute(s, dt), zp)
        cases.append(op_case("quantize_channel_%s" % dname(dt), "quantize", [x, s, zp], want))
        # Per tensor.
        s = make(0.25, dt)
        zp = np.array(-7, dtype=np.int8)
        want = to_i8(compute(x, dt) / compute(s, dt), zp)
        cases.append(op_case("quantize_tensor_%s" % dname(dt), "quantize", [x, s, zp], want))
    return cases


def dequantize_cases():
    cases = []
    for j, dt in enumerate(FLOATS):
        r = rng(2700 + j)
        for qt in (np.int8, np.int32):
            q = ints(r, (4, 6), qt)
            zp = ints(r, (4, 1), qt)
            s = floats(r, (4, 1), dt, 0.001, 2.0)
            centered = q.astype(np.int64) - zp.astype(np.int64)
            ct = np.float64 if dt == np.float64 else np.float32
            y = centered.astype(ct) * compute(s, dt)
            want = to_bf16(y) if dt == "bf16" else y.astype(dt)
            cases.append(op_case("dequantize_%s_%s" % (np.dtype(qt).name, dname(dt)),
                                 "dequantize", [q, s, zp], want))
    return cases


def requantize_cases():
    r = rng(2800)
    acc = ints(r, (3, 8), np.int32)
    acc.reshape(-1)[:4] = [2**31 - 1, -2**31, 2**24 + 1, -(2**24 + 3)]
    m = np.array([[3e-8], [1.5e-7], [-4e-9]], dtype=np.float32)
    zp = np.array([[2], [0], [-1]], dtype=np.int8)
    want = to_i8(acc.astype(np.float32) * m, zp)
    # Ties: 2.5, -1.5 and 0.5 (exact products of powers of two).
    ties = np.array([5, -3, 1, 7], dtype=np.int32)
    half = np.array(0.5, dtype=np.float32)
    zero = np.array(0, dtype=np.int8)
    return [
        op_case("requantize_channel", "requantize", [acc, m, zp], want),
        op_case("requantize_ties", "requantize", [ties, half, zero],
                to_i8(ties.astype(np.float32) * half, zero)),
    ]


CASES = quantize_cases() + dequantize_cases() + requantize_cases()
