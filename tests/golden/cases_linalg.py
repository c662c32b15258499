"""Golden cases for matmul (docs/ops.md): every allowed dtype, transposes,
broadcast batch axes, odd sizes, integer wrapping."""

import numpy as np

from make_golden import FLOAT_TOL, as_float64, cast_like, dtype_name, op_case, rng, to_bf16

FLOATS = [np.float32, np.float64, np.float16, "bf16"]
INTS = [np.int32, np.int64]


def dname(dt):
    return dt if isinstance(dt, str) else np.dtype(dt).name


def make_float(values, dt):
    v = np.asarray(values, dtype=np.float64)
    return to_bf16(v) if dt == "bf16" else v.astype(dt)


def matmul_ref(a, b, transpose_a, transpose_b):
    if transpose_a:
        a = np.swapaxes(a, -1, -2)
    if transpose_b:
        b = np.swapaxes(b, -1, -2)
    return np.matmul(a, b)


def attrs_of(transpose_a, transpose_b):
    attrs = {}
    if transpose_a:
        attrs["transpose_a"] = "true"
    if transpose_b:
        attrs["transpose_b"] = "true"
    return attrs


# (a shape, b shape, transpose_a, transpose_b), shapes as stored (before the
# transposes): plain, each transpose, both, broadcast batch axes on either
# side, rank-2 against batched, size-1 matrices, odd sizes.
SHAPES = [
    ((3, 5), (5, 7), False, False),
    ((5, 3), (5, 7), True, False),
    ((3, 5), (7, 5), False, True),
    ((5, 3), (7, 5), True, True),
    ((2, 1, 3, 4), (5, 4, 6), False, False),
    ((4, 3), (2, 3, 4, 2), True, False),
    ((3, 2, 4), (1, 6, 4), False, True),
    ((1, 1), (1, 1), False, False),
    ((1, 13), (13, 1), False, False),
    ((7, 13), (13, 9), False, False),
    ((2, 17, 1), (2, 1, 3), False, False),
]


def float_cases():
    cases = []
    for j, dt in enumerate(FLOATS):
        for s, (sa, sb, ta, tb) in enumerate(SHAPES):
            g = rng(3000 + 100 * j + s)
            a = make_float(g.uniform(-2, 2, size=sa), dt)
            b = make_float(g.uniform(-2, 2, size=sb), dt)
            want = matmul_ref(as_float64(a), as_float64(b), ta, tb)
            target = "bf16" if dt == "bf16" else a.dtype
            rtol, atol = FLOAT_TOL[dtype_name(a)]
            # Sums with cancellation: a result near zero is held to the
            # magnitude of its terms, not its own.
            atol = max(atol, {"f64": 1e-13, "f32": 1e-6, "f16": 2e-3, "bf16": 2e-2}[dtype_name(a)])
            cases.append(op_case("matmul_%s_%d" % (dname(dt), s), "matmul", [a, b],
                                 cast_like(want, target), rtol, atol, attrs_of(ta, tb)))
    return cases


def int_cases():
    cases = []
    for j, dt in enumerate(INTS):
        info = np.iinfo(dt)
        for s, (sa, sb, ta, tb) in enumerate(SHAPES):
            g = rng(4000 + 100 * j + s)
            a = g.integers(-50, 50, size=sa).astype(dt)
            b = g.integers(-50, 50, size=sb).astype(dt)
            want = matmul_ref(a.astype(np.int64), b.astype(np.int64), ta, tb).astype(dt)
            cases.append(op_case("matmul_%s_%d" % (dname(dt), s), "matmul", [a, b], want,
                                 attrs=attrs_of(ta, tb)))
        # Products and sums that overflow the type wrap (two's complement).
        g = rng(4100 + j)
        a = g.integers(info.max // 2, info.max, size=(3, 4), endpoint=True).astype(dt)
        b = g.integers(info.min, info.max, size=(4, 2), endpoint=True).astype(dt)
        want = wrapped_matmul(a, b, dt)
        cases.append(op_case("matmul_%s_wrap" % dname(dt), "matmul", [a, b], want))
    return cases


def wrapped_matmul(a, b, dt):
    """Exact products and sums in Python ints, reduced modulo 2^bits."""
    bits = np.iinfo(dt).bits
    m, k = a.shape
    n = b.shape[1]
    out = np.zeros((m, n), dtype=dt)
    for i in range(m):
        for j in range(n):
            s = sum(int(a[i, p]) * int(b[p, j]) for p in range(k)) % (1 << bits)
            if s >= 1 << (bits - 1):
                s -= 1 << bits
            out[i, j] = s
    return out


CASES = float_cases() + int_cases()
