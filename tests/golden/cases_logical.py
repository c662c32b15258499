"""Golden cases for the ops with a bool result: isnan, isinf (with each
choice of detect_positive / detect_negative) and the logical ops not, and,
or, xor with broadcasting (docs/ops.md)."""

import numpy as np

from make_golden import as_float64, op_case, rng
from cases_elementwise import FLOATS, dname, floats, make

SPECIAL = [np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -3.5, 65504.0, 1e30]


def float_test_cases():
    cases = []
    for j, dt in enumerate(FLOATS):
        x = floats(rng(1400 + j), (3, 4), dt, -5.0, 5.0)
        x.reshape(-1)[:4] = make([np.nan, np.inf, -np.inf, -0.0], dt)
        as64 = as_float64(x)
        cases.append(op_case("isnan_%s" % dname(dt), "isnan", [x], np.isnan(as64)))
        for pos in (True, False):
            for neg in (True, False):
                want = (np.isposinf(as64) & pos) | (np.isneginf(as64) & neg)
                attrs = {"detect_positive": str(pos).lower(),
                         "detect_negative": str(neg).lower()}
                cases.append(op_case("isinf_%s_%s_%s" % (int(pos), int(neg), dname(dt)),
                                     "isinf", [x], want, attrs=attrs))
    x = np.array(SPECIAL, dtype=np.float64)
    cases.append(op_case("isinf_default_f64", "isinf", [x], np.isinf(x)))
    cases.append(op_case("isnan_special_f64", "isnan", [x], np.isnan(x)))
    return cases


# Broadcast pairs: (a shape, b shape).
SHAPES = [((3, 1, 5), (4, 1)), ((7,), (7,)), ((2, 3), ())]


def logical_cases():
    cases = []
    r = rng(1500)
    x = r.integers(0, 2, size=(4, 5)).astype(np.bool_)
    cases.append(op_case("not_bool", "not", [x], np.logical_not(x)))
    for k, (op, ref) in enumerate([("and", np.logical_and), ("or", np.logical_or),
                                    ("xor", np.logical_xor)]):
        for sa, sb in SHAPES:
            a = r.integers(0, 2, size=sa).astype(np.bool_)
            b = np.asarray(r.integers(0, 2, size=sb)).astype(np.bool_)
            cases.append(op_case("%s_bool_%s" % (op, "x".join(map(str, sa))), op, [a, b],
                                 ref(a, b)))
    return cases


CASES = float_test_cases() + logical_cases()
