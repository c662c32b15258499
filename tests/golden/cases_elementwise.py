"""Golden cases for the elementwise ops: unary math, binary arithmetic with
broadcasting, comparisons, select and cast (docs/ops.md)."""

import math

import numpy as np

from make_golden import (
    as_float64,
    binary_case,
    dtype_name,
    erf,
    from_bf16,
    op_case,
    rng,
    to_bf16,
    unary_case,
)

FLOATS = [np.float32, np.float64, np.float16, "bf16"]
INTS = [np.int8, np.int32, np.int64]


def dname(dt):
    return dt if isinstance(dt, str) else np.dtype(dt).name


def nyx_dtype(dt):
    """The .nyx name of a NumPy dtype: np.int8 -> "i8"."""
    return dtype_name(np.zeros(0, dtype=dt))


def make(values, dt):
    """An array of `dt` ("bf16" or a NumPy dtype) from float64 values."""
    v = np.asarray(values, dtype=np.float64)
    if dt == "bf16":
        return to_bf16(v)
    return v.astype(dt)


def floats(r, shape, dt, lo=-3.0, hi=3.0):
    return make(r.uniform(lo, hi, size=shape), dt)


def ints(r, shape, dt, lo=None, hi=None):
    info = np.iinfo(dt)
    lo = info.min if lo is None else lo
    hi = info.max if hi is None else hi
    return r.integers(lo, hi, size=shape, endpoint=True, dtype=dt)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))


# (op, reference on float64, input range, attrs)
UNARY_FLOAT = [
    ("exp", np.exp, (-5.0, 5.0), None),
    ("log", np.log, (0.01, 50.0), None),
    ("sqrt", np.sqrt, (0.0, 50.0), None),
    ("rsqrt", lambda x: 1.0 / np.sqrt(x), (0.01, 50.0), None),
    ("tanh", np.tanh, (-4.0, 4.0), None),
    ("erf", erf, (-3.0, 3.0), None),
    ("sigmoid", sigmoid, (-8.0, 8.0), None),
    ("silu", lambda x: x * sigmoid(x), (-8.0, 8.0), None),
    ("gelu", lambda x: 0.5 * x * (1.0 + erf(x / math.sqrt(2.0))), (-4.0, 4.0), None),
    ("gelu", gelu_tanh, (-4.0, 4.0), {"approximate": '"tanh"'}),
]


def unary_cases():
    cases = []
    for k, (op, ref, (lo, hi), attrs) in enumerate(UNARY_FLOAT):
        for j, dt in enumerate(FLOATS):
            x = floats(rng(100 + 10 * k + j), (3, 7), dt, lo, hi)
            suffix = "_tanh" if attrs else ""
            cases.append(unary_case("%s%s_%s" % (op, suffix, dname(dt)), op, x, ref, attrs))
    # neg, abs, relu over every numeric dtype, with the extremes for ints
    # (neg and abs wrap: -min = min).
    numeric = [
        ("neg", np.negative),
        ("abs", np.abs),
        ("relu", lambda x: np.maximum(x, 0)),
    ]
    for k, (op, ref) in enumerate(numeric):
        for j, dt in enumerate(FLOATS):
            x = floats(rng(200 + 10 * k + j), (5, 3), dt, -10.0, 10.0)
            cases.append(unary_case("%s_%s" % (op, dname(dt)), op, x, ref))
        for j, dt in enumerate(INTS):
            info = np.iinfo(dt)
            x = ints(rng(300 + 10 * k + j), (2, 9), dt)
            x[0, :3] = [info.min, info.max, 0]
            cases.append(unary_case("%s_%s" % (op, dname(dt)), op, x, ref))
    # NaN and infinities pass through the float ops as libm says.
    special = make([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0], np.float32)
    for op, ref in [("relu", lambda x: np.maximum(x, 0)), ("exp", np.exp), ("tanh", np.tanh)]:
        cases.append(unary_case("%s_special_f32" % op, op, special, ref))
    return cases


def trunc_div(a, b, dt):
    """Integer division truncating toward zero, x / 0 = 0, wrapping."""
    bits = np.iinfo(dt).bits

    def one(x, y):
        x, y = int(x), int(y)
        if y == 0:
            return 0
        q = abs(x) // abs(y)
        q = q if (x < 0) == (y < 0) else -q
        return ((q + (1 << (bits - 1))) % (1 << bits)) - (1 << (bits - 1))

    return np.vectorize(one, otypes=[np.int64])(a, b).astype(dt)


BINARY = [
    ("add", np.add, "numeric"),
    ("sub", np.subtract, "numeric"),
    ("mul", np.multiply, "numeric"),
    ("div", None, "numeric"),
    ("pow", np.power, "float"),
    ("max", np.maximum, "numeric"),
    ("min", np.minimum, "numeric"),
]

# Broadcast pairs: (a shape, b shape).
SHAPES = [((3, 1, 5), (4, 1)), ((7,), (7,)), ((2, 3), ())]


def binary_cases():
    cases = []
    for k, (op, ref, kind) in enumerate(BINARY):
        for j, dt in enumerate(FLOATS):
            sa, sb = SHAPES[j % len(SHAPES)]
            r = rng(400 + 10 * k + j)
            if op == "pow":
                a = floats(r, sa, dt, 0.1, 4.0)
                b = floats(r, sb, dt, -2.0, 2.0)
            else:
                a = floats(r, sa, dt, -5.0, 5.0)
                b = floats(r, sb, dt, 0.5, 5.0) if op == "div" else floats(r, sb, dt, -5.0, 5.0)
            fn = ref if ref is not None else np.divide
            cases.append(binary_case("%s_%s" % (op, dname(dt)), op, a, b, fn))
        if kind != "numeric":
            continue
        for j, dt in enumerate(INTS):
            sa, sb = SHAPES[j % len(SHAPES)]
            r = rng(500 + 10 * k + j)
            a = ints(r, sa, dt)
            b = ints(r, sb, dt, -20, 20) if op == "div" else ints(r, sb, dt)
            if op == "div":
                fn = lambda x, y, dt=dt: trunc_div(x, y, dt)
            else:
                fn = ref
            with np.errstate(over="ignore"):
                cases.append(binary_case("%s_%s" % (op, dname(dt)), op, a, b, fn))
    # Integer division corner cases: x / 0 = 0 and min / -1 = min.
    for dt in INTS:
        info = np.iinfo(dt)
        a = np.array([7, -7, 7, -7, 5, info.min, info.min, info.max], dtype=dt)
        b = np.array([2, 2, -2, -2, 0, -1, 0, -1], dtype=dt)
        cases.append(binary_case("div_corners_%s" % dname(dt), "div", a, b,
                                 lambda x, y, dt=dt: trunc_div(x, y, dt)))
    # Float max/min propagate NaN from either side; IEEE division by zero.
    a = np.array([np.nan, 1.0, np.nan, 2.0, -np.inf], dtype=np.float32)
    b = np.array([1.0, np.nan, np.nan, 3.0, 0.0], dtype=np.float32)
    cases.append(binary_case("max_nan_f32", "max", a, b, np.maximum))
    cases.append(binary_case("min_nan_f32", "min", a, b, np.minimum))
    with np.errstate(divide="ignore", invalid="ignore"):
        cases.append(binary_case("div_ieee_f32", "div",
                                 np.array([1.0, -1.0, 0.0], np.float32),
                                 np.array([0.0, 0.0, 0.0], np.float32), np.divide))
    return cases


COMPARES = [
    ("eq", np.equal),
    ("ne", np.not_equal),
    ("lt", np.less),
    ("le", np.less_equal),
    ("gt", np.greater),
    ("ge", np.greater_equal),
]


def compare_cases():
    cases = []
    for k, (op, ref) in enumerate(COMPARES):
        r = rng(600 + k)
        # Small integer-valued floats so equal pairs occur; NaN compares
        # unordered.
        a = make(r.integers(-3, 3, size=(4, 5)), np.float32)
        b = make(r.integers(-3, 3, size=(5,)), np.float32)
        a[0, 0] = np.nan
        b[1] = np.nan
        cases.append(binary_case("%s_f32" % op, op, a, b, ref, out_dtype=np.bool_))
        a = make(r.integers(-3, 3, size=(3, 1)), np.float16)
        b = make(r.integers(-3, 3, size=(1, 6)), np.float16)
        cases.append(binary_case("%s_f16" % op, op, a, b, ref, out_dtype=np.bool_))
        a = make(r.integers(-3, 3, size=(6,)), np.float64)
        b = make(r.integers(-3, 3, size=(6,)), np.float64)
        cases.append(binary_case("%s_f64" % op, op, a, b, ref, out_dtype=np.bool_))
        a = make(r.integers(-3, 3, size=(2, 4)), "bf16")
        b = make(r.integers(-3, 3, size=(2, 4)), "bf16")
        cases.append(op_case("%s_bf16" % op, op, [a, b],
                             ref(from_bf16(a), from_bf16(b))))
        for dt in INTS:
            a = ints(r, (3, 4), dt, -3, 3)
            b = ints(r, (4,), dt, -3, 3)
            a[0, :2] = [np.iinfo(dt).min, np.iinfo(dt).max]
            cases.append(binary_case("%s_%s" % (op, dname(dt)), op, a, b, ref,
                                     out_dtype=np.bool_))
        a = r.integers(0, 2, size=(2, 3)).astype(np.bool_)
        b = r.integers(0, 2, size=(3,)).astype(np.bool_)
        cases.append(binary_case("%s_bool" % op, op, a, b, ref, out_dtype=np.bool_))
    return cases


def select_cases():
    cases = []
    r = rng(700)
    cond = r.integers(0, 2, size=(3, 1)).astype(np.bool_)
    for dt in [np.float32, np.float64, np.float16, np.int8, np.int32, np.int64]:
        a = make(r.integers(-9, 9, size=(1, 4)), dt)
        b = make(r.integers(-9, 9, size=(3, 4)), dt)
        cases.append(op_case("select_%s" % dname(dt), "select", [cond, a, b],
                             np.where(cond, a, b)))
    a = r.integers(0, 2, size=(5,)).astype(np.bool_)
    b = r.integers(0, 2, size=(2, 5)).astype(np.bool_)
    c = r.integers(0, 2, size=(2, 1)).astype(np.bool_)
    cases.append(op_case("select_bool", "select", [c, a, b], np.where(c, a, b)))
    a = to_bf16(r.uniform(-2, 2, size=(4,)))
    b = to_bf16(r.uniform(-2, 2, size=(4,)))
    c = r.integers(0, 2, size=(4,)).astype(np.bool_)
    cases.append(op_case("select_bf16", "select", [c, a, b],
                         np.where(c, a, b).view(type(a))))
    return cases


def saturating(x, dt):
    """Float to int: truncate toward zero, saturate, NaN -> 0."""
    info = np.iinfo(dt)

    def one(v):
        if math.isnan(v):
            return 0
        if math.isinf(v):
            return info.max if v > 0 else info.min
        return min(max(int(v), info.min), info.max)

    return np.array([one(v) for v in as_float64(x).ravel()], dtype=dt).reshape(x.shape)


def wrapping(x, dt):
    bits = np.iinfo(dt).bits
    vals = [((int(v) + (1 << (bits - 1))) % (1 << bits)) - (1 << (bits - 1)) for v in x.ravel()]
    return np.array(vals, dtype=dt).reshape(x.shape)


def cast_cases():
    cases = []

    def add(name, x, to, want):
        cases.append(op_case("cast_" + name, "cast", [x], want, attrs={"to": to}))

    special = np.array([300.0, -300.0, 2.9, -2.9, 0.5, -0.5, np.nan, np.inf, -np.inf, 127.0,
                        -128.0, 3e9, -3e9, 1e19, -1e19], dtype=np.float64)
    for src in [np.float32, np.float64, np.float16]:
        x = special.astype(src)
        for dst in INTS:
            add("%s_%s" % (dname(src), dname(dst)), x, nyx_dtype(dst), saturating(x, dst))
    x = special.astype(np.float32)
    add("f32_bool", np.append(x, [0.0, -0.0]).astype(np.float32), "bool",
        np.append(x, [0.0, -0.0]) != 0)
    # Float to float: one rounding to nearest even (1 + 2^-11 + 2^-40 rounds
    # up to f16; through f32 it would tie and round down).
    r = rng(800)
    x = np.append(r.uniform(-70000, 70000, size=9), [1 + 2.0**-11 + 2.0**-40, 1e-6, 6e-8, np.nan])
    add("f64_f16", x, "f16", x.astype(np.float16))
    add("f64_f32", x, "f32", x.astype(np.float32))
    x32 = x.astype(np.float32)
    add("f32_f16", x32, "f16", x32.astype(np.float16))
    add("f32_f64", x32, "f64", x32.astype(np.float64))
    add("f32_bf16", x32, "bf16", to_bf16(x32))
    x16 = x.astype(np.float16)
    add("f16_f32", x16, "f32", x16.astype(np.float32))
    add("f16_f64", x16, "f64", x16.astype(np.float64))
    b = to_bf16(r.uniform(-100, 100, size=7))
    add("bf16_f32", b, "f32", from_bf16(b))
    add("bf16_f16", b, "f16", from_bf16(b).astype(np.float16))
    # Integers: widening is exact, narrowing wraps, to float rounds once
    # (2^60 + 2^36 + 1 rounds up to f32; through f64 it would tie down).
    i64 = np.array([0, 1, -1, 300, -300, 2**40 + 7, -(2**62), 2**60 + 2**36 + 1, 2**63 - 1,
                    -(2**63)], dtype=np.int64)
    add("i64_i32", i64, "i32", wrapping(i64, np.int32))
    add("i64_i8", i64, "i8", wrapping(i64, np.int8))
    add("i64_f32", i64, "f32", i64.astype(np.float32))
    add("i64_f64", i64, "f64", i64.astype(np.float64))
    add("i64_bool", i64, "bool", i64 != 0)
    i32 = np.array([0, 5, -5, 200, -200, 65519, 70000, 2**31 - 1, -(2**31)], dtype=np.int32)
    add("i32_i8", i32, "i8", wrapping(i32, np.int8))
    add("i32_i64", i32, "i64", i32.astype(np.int64))
    add("i32_f16", i32, "f16", i32.astype(np.float16))
    add("i32_bf16", i32[:7], "bf16", to_bf16(i32[:7].astype(np.float32)))
    i8 = np.array([-128, -1, 0, 1, 127], dtype=np.int8)
    add("i8_i32", i8, "i32", i8.astype(np.int32))
    add("i8_f32", i8, "f32", i8.astype(np.float32))
    flags = np.array([True, False, True], dtype=np.bool_)
    add("bool_f32", flags, "f32", flags.astype(np.float32))
    add("bool_i64", flags, "i64", flags.astype(np.int64))
    add("bool_bool", flags, "bool", flags)
    return cases


CASES = unary_cases() + binary_cases() + compare_cases() + select_cases() + cast_cases()
