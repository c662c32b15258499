"""Golden cases for gather_nd, scatter_elements and scatter_nd (ONNX
GatherND, ScatterElements, ScatterND): batch_dims, tuple lengths, negative
and out-of-range indices (zeros for gather_nd, skipped updates for the
scatters), duplicate indices (the last update wins, reductions combine in
row-major order of updates), every reduction and dtype (docs/ops.md)."""

import numpy as np

from make_golden import Bf16Array, FLOAT_TOL, dtype_name, from_bf16, op_case, rng, to_bf16

_INT_BITS = {"i8": 8, "i32": 32, "i64": 64}


def _working(a):
    """The values of `a` as a float64 (floats) or object (ints) array."""
    if isinstance(a, Bf16Array):
        return from_bf16(a).astype(np.float64)
    if a.dtype.kind == "f":
        return a.astype(np.float64)
    return a.astype(object)


def _rounder(dt):
    """Rounds one working value to dtype `dt`, as each update does."""
    if dt in _INT_BITS:
        bits = _INT_BITS[dt]
        return lambda v: ((int(v) + (1 << (bits - 1))) % (1 << bits)) - (1 << (bits - 1))
    if dt == "bf16":
        return lambda v: float(from_bf16(to_bf16(np.array([v], dtype=np.float32)))[0])
    if dt == "bool":
        return lambda v: bool(v)
    np_type = {"f32": np.float32, "f64": np.float64, "f16": np.float16}[dt]
    return lambda v: float(np_type(v))


def _combine(reduction, a, b):
    if reduction == "none":
        return b
    if reduction == "add":
        return a + b
    if reduction == "mul":
        return a * b
    if isinstance(a, float) and (np.isnan(a) or np.isnan(b)):
        return float("nan")
    return max(a, b) if reduction == "max" else min(a, b)


def _finish(work, like):
    """The working array in the dtype of `like`."""
    if isinstance(like, Bf16Array):
        return to_bf16(work.astype(np.float32))
    return work.astype(like.dtype)


def _wrap(i, n):
    i = int(i)
    if i < 0:
        i += n
    return i if 0 <= i < n else None


def gather_nd_ref(data, indices, batch_dims=0):
    b = batch_dims
    k = indices.shape[-1]
    src = _working(data)
    out_shape = indices.shape[:-1] + data.shape[b + k:]
    out = np.zeros(out_shape, dtype=src.dtype)
    if src.dtype == object:
        out[...] = 0
    for p in np.ndindex(*indices.shape[:-1]):
        t = [_wrap(i, data.shape[b + j]) for j, i in enumerate(indices[p])]
        if None not in t:
            out[p] = src[tuple(p[:b]) + tuple(t)]
    return _finish(out, data)


def scatter_elements_ref(data, indices, updates, axis=0, reduction="none"):
    axis = axis % data.ndim
    out = _working(data).copy()
    upd = _working(updates)
    rnd = _rounder(dtype_name(data))
    for p in np.ndindex(*indices.shape):
        i = _wrap(indices[p], data.shape[axis])
        if i is None:
            continue
        q = list(p)
        q[axis] = i
        q = tuple(q)
        out[q] = rnd(_combine(reduction, out[q], upd[p]))
    return _finish(out, data)


def scatter_nd_ref(data, indices, updates, reduction="none"):
    k = indices.shape[-1]
    out = _working(data).copy()
    upd = _working(updates)
    rnd = _rounder(dtype_name(data))
    for p in np.ndindex(*indices.shape[:-1]):
        t = [_wrap(i, data.shape[j]) for j, i in enumerate(indices[p])]
        if None in t:
            continue
        t = tuple(t)
        for e in np.ndindex(*data.shape[k:]):
            out[t + e] = rnd(_combine(reduction, out[t + e], upd[p + e]))
    return _finish(out, data)


def _tol(a):
    return FLOAT_TOL.get(dtype_name(a), (0.0, 0.0))


def _typed(r, name, shape):
    if name == "f32":
        return r.uniform(-4, 4, size=shape).astype(np.float32)
    if name == "f64":
        return r.uniform(-4, 4, size=shape)
    if name == "f16":
        return r.uniform(-4, 4, size=shape).astype(np.float16)
    if name == "bf16":
        return to_bf16(r.uniform(-4, 4, size=shape))
    if name == "bool":
        return r.integers(0, 2, size=shape).astype(np.bool_)
    np_type = {"i8": np.int8, "i32": np.int32, "i64": np.int64}[name]
    lo, hi = (-100, 100) if name == "i8" else (-10**6, 10**6)
    return r.integers(lo, hi, size=shape).astype(np_type)


ALL_DTYPES = ("f32", "f64", "f16", "bf16", "i8", "i32", "i64", "bool")
NUMERIC = ("f32", "f64", "f16", "bf16", "i8", "i32", "i64")


def gather_nd_cases():
    cases = []
    r = rng(1900)
    data = r.uniform(-5, 5, size=(3, 4, 5)).astype(np.float32)
    # Tuples of 1, 2 and 3 indices, some negative, some out of range.
    for k in (1, 2, 3):
        idx = np.stack([r.integers(-data.shape[j] - 1, data.shape[j] + 1, size=(2, 3))
                        for j in range(k)], axis=-1).astype(np.int64)
        cases.append(op_case("gather_nd_k%d_f32" % k, "gather_nd", [data, idx],
                             gather_nd_ref(data, idx)))
    # batch_dims 1 and 2, i32 indices.
    idx = np.array([[[1, -1], [3, 4]], [[0, 0], [2, 9]], [[-4, 2], [1, 1]]], dtype=np.int32)
    cases.append(op_case("gather_nd_batch1_f32", "gather_nd", [data, idx],
                         gather_nd_ref(data, idx, 1), attrs={"batch_dims": 1}))
    idx = r.integers(-6, 7, size=(3, 4, 2, 1)).astype(np.int64)
    cases.append(op_case("gather_nd_batch2_f32", "gather_nd", [data, idx],
                         gather_nd_ref(data, idx, 2), attrs={"batch_dims": 2}))
    small = np.array([[0, 1], [1, 0], [-1, -2]], dtype=np.int64)
    for name in ALL_DTYPES:
        d = _typed(r, name, (2, 3, 2))
        cases.append(op_case("gather_nd_%s" % name, "gather_nd", [d, small],
                             gather_nd_ref(d, small)))
    # ONNX's examples.
    d = np.array([[[0, 1], [2, 3]], [[4, 5], [6, 7]]], dtype=np.int32)
    idx = np.array([[[0, 1]], [[1, 0]]], dtype=np.int64)
    cases.append(op_case("gather_nd_onnx_example", "gather_nd", [d, idx],
                         np.array([[[2, 3]], [[4, 5]]], dtype=np.int32)))
    idx = np.array([[1], [0]], dtype=np.int64)
    cases.append(op_case("gather_nd_onnx_batch_dim1", "gather_nd", [d, idx],
                         np.array([[2, 3], [4, 5]], dtype=np.int32),
                         attrs={"batch_dims": 1}))
    idx = np.zeros((0, 2), dtype=np.int64)
    cases.append(op_case("gather_nd_empty", "gather_nd", [data, idx],
                         np.zeros((0, 5), dtype=np.float32)))
    return cases


def scatter_elements_cases():
    cases = []
    r = rng(1901)
    data = r.uniform(-5, 5, size=(3, 4, 5)).astype(np.float32)
    for axis in (0, 1, 2, -1):
        n = data.shape[axis]
        shape = [2, 3, 4]
        shape[axis] = 7  # more updates than the axis has: duplicates
        idx = r.integers(-n - 2, n + 2, size=shape).astype(np.int64)
        upd = r.uniform(-5, 5, size=shape).astype(np.float32)
        for reduction in ("none", "add", "mul", "max", "min"):
            cases.append(op_case(
                "scatter_elements_axis%s_%s_f32" % (str(axis).replace("-", "m"), reduction),
                "scatter_elements", [data, idx, upd],
                scatter_elements_ref(data, idx, upd, axis, reduction),
                *_tol(data), attrs={"axis": axis, "reduction": '"%s"' % reduction}))
    idx = np.array([[1, 0, -1, 1], [2, 2, 0, -3]], dtype=np.int32)
    for name in ALL_DTYPES:
        d = _typed(r, name, (3, 4))
        u = _typed(r, name, (2, 4))
        for reduction in ("none",) if name == "bool" else ("none", "add", "mul", "max", "min"):
            cases.append(op_case(
                "scatter_elements_%s_%s" % (name, reduction), "scatter_elements",
                [d, idx, u], scatter_elements_ref(d, idx, u, 0, reduction), *_tol(d),
                attrs={"reduction": '"%s"' % reduction}))
    # ONNX's example with duplicate indices and reduction "add".
    d = np.array([[1, 2, 3, 4, 5]], dtype=np.float32)
    idx = np.array([[1, 1]], dtype=np.int64)
    u = np.array([[1.1, 2.1]], dtype=np.float32)
    cases.append(op_case("scatter_elements_onnx_duplicates", "scatter_elements", [d, idx, u],
                         np.array([[1.0, 5.2, 3.0, 4.0, 5.0]], dtype=np.float32),
                         2e-6, 1e-7, attrs={"axis": 1, "reduction": '"add"'}))
    idx = np.zeros((1, 0), dtype=np.int64)
    u = np.zeros((1, 0), dtype=np.float32)
    cases.append(op_case("scatter_elements_empty", "scatter_elements", [d, idx, u], d.copy(),
                         attrs={"axis": 1}))
    return cases


def scatter_nd_cases():
    cases = []
    r = rng(1902)
    data = r.uniform(-5, 5, size=(4, 3, 5)).astype(np.float32)
    for k in (1, 2, 3):
        idx = np.stack([r.integers(-data.shape[j] - 1, data.shape[j] + 1, size=(6,))
                        for j in range(k)], axis=-1).astype(np.int64)
        upd = r.uniform(-5, 5, size=(6,) + data.shape[k:]).astype(np.float32)
        for reduction in ("none", "add", "mul", "max", "min"):
            cases.append(op_case("scatter_nd_k%d_%s_f32" % (k, reduction), "scatter_nd",
                                 [data, idx, upd],
                                 scatter_nd_ref(data, idx, upd, reduction), *_tol(data),
                                 attrs={"reduction": '"%s"' % reduction}))
    idx = np.array([[[1], [-1]], [[1], [9]]], dtype=np.int32)
    for name in ALL_DTYPES:
        d = _typed(r, name, (3, 2))
        u = _typed(r, name, (2, 2, 2))
        for reduction in ("none",) if name == "bool" else ("none", "add", "mul", "max", "min"):
            cases.append(op_case("scatter_nd_%s_%s" % (name, reduction), "scatter_nd",
                                 [d, idx, u], scatter_nd_ref(d, idx, u, reduction), *_tol(d),
                                 attrs={"reduction": '"%s"' % reduction}))
    # ONNX's example (test_scatternd).
    d = np.array([1, 2, 3, 4, 5, 6, 7, 8], dtype=np.float32)
    idx = np.array([[4], [3], [1], [7]], dtype=np.int64)
    u = np.array([9, 10, 11, 12], dtype=np.float32)
    cases.append(op_case("scatter_nd_onnx_example", "scatter_nd", [d, idx, u],
                         np.array([1, 11, 3, 10, 9, 6, 7, 12], dtype=np.float32)))
    return cases


CASES = gather_nd_cases() + scatter_elements_cases() + scatter_nd_cases()
