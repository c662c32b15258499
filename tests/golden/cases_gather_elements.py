"""Golden cases for gather_elements (ONNX GatherElements): each axis,
negative indices, out-of-range indices (zeros), indices smaller than data
off the axis, every dtype (docs/ops.md)."""

import numpy as np

from make_golden import op_case, rng, to_bf16


def gather_elements_ref(data, indices, axis):
    """data at each index position with the axis coordinate from indices;
    negative indices count from the end, those still out of range give 0."""
    axis = axis % data.ndim
    n = data.shape[axis]
    idx = indices.astype(np.int64)
    idx = np.where(idx < 0, idx + n, idx)
    inside = (idx >= 0) & (idx < n)
    coords = list(np.indices(indices.shape))
    coords[axis] = np.clip(idx, 0, max(n - 1, 0))
    out = np.asarray(data)[tuple(coords)] if n > 0 else np.zeros(indices.shape, data.dtype)
    out = np.where(inside, out, np.zeros((), dtype=data.dtype))
    return out.view(type(data)) if type(data) is not np.ndarray else out


def gather_elements_cases():
    cases = []
    r = rng(1800)
    data = r.uniform(-5, 5, size=(3, 4, 5)).astype(np.float32)
    for axis in (0, 1, 2, -1, -3):
        n = data.shape[axis]
        shape = list(data.shape)
        shape[axis] = 6  # more indices than the axis has
        idx = r.integers(-n, n, size=shape).astype(np.int64)
        cases.append(op_case("gather_elements_axis%s_f32" % str(axis).replace("-", "m"),
                             "gather_elements",
                             [data, idx], gather_elements_ref(data, idx, axis),
                             attrs={"axis": axis}))
    # Smaller than data off the axis, i32 indices, out of range both ways.
    idx = np.array([[[0, -1], [9, -7]], [[2, 1], [-4, 4]]], dtype=np.int32)
    cases.append(op_case("gather_elements_smaller_oob_f32", "gather_elements", [data, idx],
                         gather_elements_ref(data, idx, 1), attrs={"axis": 1}))
    idx = np.array([[1, 0, 1], [0, 3, -1]], dtype=np.int64)
    for name, d in [("f64", r.uniform(-1, 1, size=(2, 3)).astype(np.float64)),
                    ("f16", r.uniform(-1, 1, size=(2, 3)).astype(np.float16)),
                    ("bf16", to_bf16(r.uniform(-1, 1, size=(2, 3)))),
                    ("i8", r.integers(-128, 127, size=(2, 3)).astype(np.int8)),
                    ("i32", r.integers(-1000, 1000, size=(2, 3)).astype(np.int32)),
                    ("i64", r.integers(-2**62, 2**62, size=(2, 3)).astype(np.int64)),
                    ("bool", r.integers(0, 2, size=(2, 3)).astype(np.bool_))]:
        cases.append(op_case("gather_elements_%s" % name, "gather_elements", [d, idx],
                             gather_elements_ref(d, idx, 0)))
    # ONNX's own example (axis 1) and an empty index tensor.
    data = np.array([[1, 2], [3, 4]], dtype=np.float32)
    idx = np.array([[0, 0], [1, 0]], dtype=np.int64)
    cases.append(op_case("gather_elements_onnx_example", "gather_elements", [data, idx],
                         np.array([[1, 1], [4, 3]], dtype=np.float32), attrs={"axis": 1}))
    idx = np.zeros((2, 0), dtype=np.int64)
    cases.append(op_case("gather_elements_empty", "gather_elements", [data, idx],
                         np.zeros((2, 0), dtype=np.float32), attrs={"axis": 1}))
    return cases


CASES = gather_elements_cases()
