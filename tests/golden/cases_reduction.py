"""Golden cases for reduce_sum, reduce_mean, reduce_max, reduce_min and
argmax (docs/ops.md)."""

import numpy as np

from make_golden import FLOAT_TOL, as_float64, cast_like, dtype_name, op_case, rng, to_bf16

FLOATS = [np.float32, np.float64, np.float16, "bf16"]
INTS = [np.int8, np.int32, np.int64]


def dname(dt):
    return dt if isinstance(dt, str) else np.dtype(dt).name


def make(values, dt):
    v = np.asarray(values, dtype=np.float64)
    return to_bf16(v) if dt == "bf16" else v.astype(dt)


def attr_text(axes, keepdims):
    attrs = {}
    if axes is not None:
        attrs["axes"] = "[%s]" % ", ".join(str(a) for a in axes)
    if keepdims:
        attrs["keepdims"] = "true"
    return attrs


# (axes attribute or None for all, keepdims): odd shapes, negative axes,
# several axes, the identity (empty list).
AXES = [(None, False), ([1], False), ([-1], True), ([0, 2], False), ([2, 0], True), ([], False)]
SHAPE = (3, 5, 7)

REDUCES = [
    ("reduce_sum", np.sum, "numeric"),
    ("reduce_mean", np.mean, "float"),
    ("reduce_max", np.max, "numeric"),
    ("reduce_min", np.min, "numeric"),
]


def np_axes(axes):
    return None if axes is None else tuple(axes)


def reduce_cases():
    cases = []
    for k, (op, ref, kind) in enumerate(REDUCES):
        for j, dt in enumerate(FLOATS):
            for a, (axes, keep) in enumerate(AXES):
                x = make(rng(1000 + 100 * k + 10 * j + a).uniform(-4, 4, size=SHAPE), dt)
                want = ref(as_float64(x), axis=np_axes(axes), keepdims=keep)
                target = "bf16" if dt == "bf16" else x.dtype
                rtol, atol = FLOAT_TOL[dtype_name(x)]
                # Sums of many terms: the reference is exact in f64, the
                # result is rounded once, so the tolerance stays per-element.
                cases.append(op_case("%s_%s_%d" % (op, dname(dt), a), op, [x],
                                     cast_like(np.asarray(want), target), rtol,
                                     max(atol, 1e-6 if dt == np.float32 else atol),
                                     attrs=attr_text(axes, keep)))
        if kind != "numeric":
            continue
        for j, dt in enumerate(INTS):
            for a, (axes, keep) in enumerate(AXES[:4]):
                x = rng(2000 + 100 * k + 10 * j + a).integers(
                    np.iinfo(dt).min, np.iinfo(dt).max, size=SHAPE, dtype=dt, endpoint=True)
                # Integer sums wrap to the element width (NumPy would widen).
                want = np.asarray(ref(x, axis=np_axes(axes), keepdims=keep, dtype=dt)
                                  if op == "reduce_sum" else
                                  ref(x, axis=np_axes(axes), keepdims=keep)).astype(dt)
                cases.append(op_case("%s_%s_%d" % (op, dname(dt), a), op, [x], want,
                                     attrs=attr_text(axes, keep)))
    # NaN propagates through max/min wherever it is.
    x = np.array([[1.0, np.nan, 3.0], [4.0, 5.0, 6.0], [np.nan, -np.inf, np.inf]], np.float32)
    for op, ref in [("reduce_max", np.max), ("reduce_min", np.min)]:
        cases.append(op_case("%s_nan_f32" % op, op, [x], ref(x, axis=1),
                             attrs=attr_text([1], False)))
    # An f16 mean whose sum exceeds the f16 range: accumulation is wider.
    x = np.full((2, 4), 60000.0, dtype=np.float16)
    cases.append(op_case("reduce_mean_wide_f16", "reduce_mean", [x],
                         np.mean(x.astype(np.float64), axis=1).astype(np.float16),
                         attrs=attr_text([1], False)))
    return cases


def argmax_cases():
    cases = []
    for j, dt in enumerate(FLOATS[:3] + INTS):
        for axis, keep in [(0, False), (1, True), (-1, False)]:
            r = rng(3000 + 10 * j + axis)
            # Few distinct values so ties occur: the first index wins.
            x = make(r.integers(-3, 3, size=(4, 5, 6)), dt)
            want = np.argmax(x, axis=axis).astype(np.int64)
            if keep:
                want = np.expand_dims(want, axis)
            attrs = {"axis": str(axis)}
            if keep:
                attrs["keepdims"] = "true"
            cases.append(op_case("argmax_%s_%d%s" % (dname(dt), axis, "_keep" if keep else ""),
                                 "argmax", [x], want, attrs=attrs))
    # NaN counts as the maximum (NumPy agrees: the first NaN wins).
    x = np.array([[1.0, np.nan, 5.0, np.nan], [2.0, 9.0, 9.0, -1.0]], np.float32)
    cases.append(op_case("argmax_nan_f32", "argmax", [x], np.argmax(x, axis=1),
                         attrs={"axis": "1"}))
    x = to_bf16(np.array([[0.5, 2.0, 2.0], [3.0, -1.0, 3.0]]))
    cases.append(op_case("argmax_bf16", "argmax", [x], np.array([1, 0], np.int64),
                         attrs={"axis": "1"}))
    return cases


CASES = reduce_cases() + argmax_cases()
