"""Golden cases for cumsum (ONNX CumSum): every numeric dtype, each axis,
exclusive and reverse, integer wrapping (docs/ops.md)."""

import numpy as np

from make_golden import as_float64, cast_like, op_case, rng
from cases_elementwise import FLOATS, INTS, dname, floats, ints


def cumsum_ref(x, axis, exclusive, reverse):
    """ONNX's reference: flip, running sum, shift by one, flip back."""
    if reverse:
        x = np.flip(x, axis)
    y = np.cumsum(x, axis=axis)
    if exclusive:
        zeros = np.zeros_like(np.take(y, [0], axis=axis))
        y = np.concatenate([zeros, np.delete(y, -1, axis=axis)], axis=axis)
    if reverse:
        y = np.flip(y, axis)
    return y


def attrs_of(axis, exclusive, reverse):
    attrs = {"axis": axis}
    if exclusive:
        attrs["exclusive"] = "true"
    if reverse:
        attrs["reverse"] = "true"
    return attrs


def case(name, x, axis, exclusive, reverse):
    if x.dtype.kind == "f" or name.endswith("bf16"):
        # Sums in float64, rounded once (as the interpreter does).
        dt = "bf16" if name.endswith("bf16") else x.dtype
        want = cast_like(cumsum_ref(as_float64(x), axis, exclusive, reverse), dt)
        tol = {"bf16": (1.6e-2, 1e-3), np.dtype(np.float16): (2e-3, 1e-4)}.get(dt, (1e-6, 1e-7))
    else:
        # Sums in int64, wrapped to the element type.
        want = cumsum_ref(x.astype(np.int64), axis, exclusive, reverse).astype(x.dtype)
        tol = (0.0, 0.0)
    return op_case(name, "cumsum", [x], want, tol[0], tol[1],
                   attrs=attrs_of(axis, exclusive, reverse))


def cumsum_cases():
    cases = []
    k = 0
    for j, dt in enumerate(FLOATS):
        x = floats(rng(1600 + j), (3, 4, 5), dt, -3.0, 3.0)
        for axis in (0, 1, -1):
            for exclusive in (False, True):
                for reverse in (False, True):
                    name = "cumsum_a%d_e%d_r%d_%s" % (axis % 3, exclusive, reverse, dname(dt))
                    cases.append(case(name, x, axis, exclusive, reverse))
                    k += 1
    for j, dt in enumerate(INTS):
        x = ints(rng(1700 + j), (4, 6), dt)  # full range: the sums wrap
        for axis in (0, 1):
            for exclusive, reverse in ((False, False), (True, True)):
                name = "cumsum_a%d_e%d_r%d_%s" % (axis, exclusive, reverse, dname(dt))
                cases.append(case(name, x, axis, exclusive, reverse))
    x = np.array([1.0, np.nan, 2.0, np.inf, -np.inf, 3.0], dtype=np.float32)
    cases.append(case("cumsum_special_f32", x, 0, False, False))
    cases.append(case("cumsum_special_rev_f32", x, 0, True, True))
    x = np.arange(12, dtype=np.float64).reshape(3, 1, 4)
    cases.append(case("cumsum_unit_axis_f64", x, 1, True, False))
    return cases


CASES = cumsum_cases()
