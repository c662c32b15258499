"""Golden cases for the elementwise math ops: rounding, reciprocal, the
trigonometric and hyperbolic functions, softplus, sign and mod
(docs/ops.md)."""

import numpy as np

from make_golden import as_float64, binary_case, op_case, rng, unary_case
from cases_elementwise import FLOATS, INTS, dname, floats, ints, make

HALVES = [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, -0.25, 0.75]

# (op, reference on float64, input range)
UNARY_FLOAT = [
    ("floor", np.floor, (-5.0, 5.0)),
    ("ceil", np.ceil, (-5.0, 5.0)),
    ("round", np.round, (-5.0, 5.0)),
    ("reciprocal", lambda x: 1.0 / x, (0.1, 5.0)),
    ("sin", np.sin, (-10.0, 10.0)),
    ("cos", np.cos, (-10.0, 10.0)),
    ("tan", np.tan, (-1.4, 1.4)),
    ("asin", np.arcsin, (-1.0, 1.0)),
    ("acos", np.arccos, (-1.0, 1.0)),
    ("atan", np.arctan, (-10.0, 10.0)),
    ("sinh", np.sinh, (-5.0, 5.0)),
    ("cosh", np.cosh, (-5.0, 5.0)),
    ("asinh", np.arcsinh, (-10.0, 10.0)),
    ("acosh", np.arccosh, (1.0, 10.0)),
    ("atanh", np.arctanh, (-0.99, 0.99)),
    ("softplus", lambda x: np.logaddexp(0.0, x), (-30.0, 30.0)),
]

# Values at the edges of each function: NaN, infinities, signed zeros,
# points outside the domain (NaN results), overflow and underflow.
SPECIAL = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 100.0, -100.0,
           1e-30, -1e-30, 1000.0, -1000.0]


def unary_cases():
    cases = []
    for k, (op, ref, (lo, hi)) in enumerate(UNARY_FLOAT):
        for j, dt in enumerate(FLOATS):
            r = rng(1000 + 10 * k + j)
            x = floats(r, (3, 7), dt, lo, hi)
            if op in ("floor", "ceil", "round"):
                # Halves (and quarters) are exact in every float dtype.
                x.reshape(-1)[:len(HALVES)] = make(HALVES, dt)
            if op == "reciprocal":
                x = make(as_float64(x) * np.where(r.integers(0, 2, x.shape), 1.0, -1.0), dt)
            cases.append(unary_case("%s_%s" % (op, dname(dt)), op, x, ref))
        special = make(SPECIAL, np.float32)
        cases.append(unary_case("%s_special_f32" % op, op, special, ref))
        special = make(SPECIAL, np.float64)
        cases.append(unary_case("%s_special_f64" % op, op, special, ref))
    # softplus keeps its precision far out: exp(x) for very negative x, x
    # for large x.
    x = make([-80.0, -40.0, -20.0, -1e-8, 1e-8, 20.0, 40.0, 80.0], np.float32)
    cases.append(unary_case("softplus_tails_f32", "softplus", x,
                            lambda v: np.logaddexp(0.0, v)))
    return cases


def sign_cases():
    cases = []
    for j, dt in enumerate(FLOATS):
        x = floats(rng(1200 + j), (4, 5), dt, -3.0, 3.0)
        x.reshape(-1)[:5] = make([0.0, -0.0, np.nan, np.inf, -np.inf], dt)
        cases.append(unary_case("sign_%s" % dname(dt), "sign", x, np.sign))
    for j, dt in enumerate(INTS):
        info = np.iinfo(dt)
        x = ints(rng(1210 + j), (3, 6), dt)
        x[0, :3] = [info.min, info.max, 0]
        cases.append(unary_case("sign_%s" % dname(dt), "sign", x, np.sign))
    return cases


def int_mod(a, b, dt, fmod):
    """Integer mod with Python ints: x mod 0 = 0; the sign of the divisor
    (floor) or of the dividend (fmod)."""

    def one(x, y):
        x, y = int(x), int(y)
        if y == 0:
            return 0
        r = abs(x) % abs(y)
        if fmod:
            return -r if x < 0 else r
        return x % y

    return np.vectorize(one, otypes=[np.int64])(a, b).astype(dt)


MOD_SHAPES = [((3, 1, 5), (4, 1)), ((7,), (7,)), ((2, 3), ())]


def mod_cases():
    cases = []
    for fmod in (False, True):
        attrs = {"fmod": "true"} if fmod else None
        suffix = "_fmod" if fmod else ""
        ref = np.fmod if fmod else np.mod
        for j, dt in enumerate(FLOATS):
            sa, sb = MOD_SHAPES[j % len(MOD_SHAPES)]
            r = rng(1300 + 10 * fmod + j)
            a = floats(r, sa, dt, -20.0, 20.0)
            b = floats(r, sb, dt, 0.5, 6.0)
            b = make(as_float64(b) * np.where(r.integers(0, 2, np.shape(b)), 1.0, -1.0), dt)
            case = binary_case("mod%s_%s" % (suffix, dname(dt)), "mod", a, b, ref)
            case["nyx"] = with_attrs(case["nyx"], attrs)
            cases.append(case)
        for j, dt in enumerate(INTS):
            sa, sb = MOD_SHAPES[j % len(MOD_SHAPES)]
            r = rng(1320 + 10 * fmod + j)
            a = ints(r, sa, dt)
            b = ints(r, sb, dt, -20, 20)
            want = int_mod(*np.broadcast_arrays(a, b), dt, fmod)
            cases.append(op_case("mod%s_%s" % (suffix, dname(dt)), "mod", [a, b], want,
                                 attrs=attrs))
        # Corners: x mod 0, min mod -1, exact multiples, signs.
        for dt in INTS:
            info = np.iinfo(dt)
            a = np.array([7, -7, 7, -7, 6, -6, 5, 0, info.min, info.min, info.max, info.max],
                         dtype=dt)
            b = np.array([3, 3, -3, -3, 3, -3, 0, -4, -1, 0, -1, info.min], dtype=dt)
            cases.append(op_case("mod%s_corners_%s" % (suffix, dname(dt)), "mod", [a, b],
                                 int_mod(a, b, dt, fmod), attrs=attrs))
        a = np.array([7.5, -7.5, 7.5, -7.5, 6.0, -6.0, 0.0, -0.0, 5.0, np.inf, np.nan, 5.0,
                      -5.0, 3.0, 1e30], dtype=np.float64)
        b = np.array([2.0, 2.0, -2.0, -2.0, 3.0, -3.0, 3.0, -3.0, 0.0, 2.0, 2.0, np.inf,
                      np.inf, -np.inf, 3.0], dtype=np.float64)
        for dt in (np.float32, np.float64):
            case = binary_case("mod%s_corners_%s" % (suffix, dname(dt)), "mod",
                               a.astype(dt), b.astype(dt), ref)
            case["nyx"] = with_attrs(case["nyx"], attrs)
            cases.append(case)
    return cases


def with_attrs(nyx, attrs):
    """Adds `{name = value, ...}` to the op call of a one-op module."""
    if not attrs:
        return nyx
    text = ", ".join("%s = %s" % kv for kv in attrs.items())
    return nyx.replace("(%x0, %x1) :", "(%%x0, %%x1) {%s} :" % text, 1)


CASES = unary_cases() + sign_cases() + mod_cases()
