"""Golden cases for softmax, log_softmax, layer_norm and rms_norm
(docs/ops.md)."""

import numpy as np

from make_golden import FLOAT_TOL, as_float64, cast_like, dtype_name, op_case, rng, to_bf16

FLOATS = [np.float32, np.float64, np.float16, "bf16"]


def dname(dt):
    return dt if isinstance(dt, str) else np.dtype(dt).name


def make(values, dt):
    v = np.asarray(values, dtype=np.float64)
    return to_bf16(v) if dt == "bf16" else v.astype(dt)


def target(x):
    return "bf16" if dtype_name(x) == "bf16" else x.dtype


def softmax(x, axis):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(x, axis):
    m = np.max(x, axis=axis, keepdims=True)
    return x - m - np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))


def layer_norm(x, axis, eps, scale=None, bias=None):
    axes = tuple(range(axis, x.ndim))
    mean = np.mean(x, axis=axes, keepdims=True)
    var = np.mean((x - mean) ** 2, axis=axes, keepdims=True)
    y = (x - mean) / np.sqrt(var + eps)
    if scale is not None:
        y = y * scale
    if bias is not None:
        y = y + bias
    return y


def rms_norm(x, axis, eps, scale=None):
    axes = tuple(range(axis, x.ndim))
    y = x / np.sqrt(np.mean(x * x, axis=axes, keepdims=True) + eps)
    return y if scale is None else y * scale


def softmax_cases():
    cases = []
    for j, dt in enumerate(FLOATS):
        for axis in [-1, 0, 1]:
            x = make(rng(4000 + 10 * j + axis).uniform(-6, 6, size=(3, 5, 7)), dt)
            rtol, atol = FLOAT_TOL[dtype_name(x)]
            for op, ref in [("softmax", softmax), ("log_softmax", log_softmax)]:
                want = cast_like(ref(as_float64(x), axis), target(x))
                attrs = None if axis == -1 else {"axis": str(axis)}
                cases.append(op_case("%s_%s_axis%d" % (op, dname(dt), axis), op, [x], want,
                                     rtol, atol, attrs=attrs))
    # Large logits: subtracting the max keeps exp finite.
    x = np.array([[1000.0, 1000.0, 999.0], [-1000.0, 0.0, 1000.0]], np.float32)
    for op, ref in [("softmax", softmax), ("log_softmax", log_softmax)]:
        cases.append(op_case("%s_large_f32" % op, op, [x],
                             ref(x.astype(np.float64), -1).astype(np.float32), 2e-6, 1e-7))
    return cases


def norm_cases():
    cases = []
    for j, dt in enumerate(FLOATS):
        r = rng(5000 + j)
        x = make(r.normal(0.5, 2.0, size=(2, 3, 9)), dt)
        rtol, atol = FLOAT_TOL[dtype_name(x)]
        atol = max(atol, 1e-5 if dtype_name(x) in ("f32", "f64") else atol)
        for axis in [-1, 1]:
            block = x.shape[axis:]
            scale = make(r.uniform(0.5, 1.5, size=block), dt)
            bias = make(r.uniform(-1, 1, size=block), dt)
            xs, ss, bs = as_float64(x), as_float64(scale), as_float64(bias)
            attrs = {"axis": str(axis)} if axis != -1 else None
            cases.append(op_case("layer_norm_%s_axis%d" % (dname(dt), axis), "layer_norm",
                                 [x, scale, bias],
                                 cast_like(layer_norm(xs, axis % 3, 1e-5, ss, bs), target(x)),
                                 rtol, atol, attrs=attrs))
            cases.append(op_case("layer_norm_scale_%s_axis%d" % (dname(dt), axis), "layer_norm",
                                 [x, scale],
                                 cast_like(layer_norm(xs, axis % 3, 1e-5, ss), target(x)),
                                 rtol, atol, attrs=attrs))
            cases.append(op_case("rms_norm_%s_axis%d" % (dname(dt), axis), "rms_norm",
                                 [x, scale],
                                 cast_like(rms_norm(xs, axis % 3, 1e-6, ss), target(x)),
                                 rtol, atol, attrs=attrs))
        xs = as_float64(x)
        cases.append(op_case("layer_norm_plain_%s" % dname(dt), "layer_norm", [x],
                             cast_like(layer_norm(xs, 2, 0.5), target(x)), rtol, atol,
                             attrs={"epsilon": "0.5"}))
        cases.append(op_case("rms_norm_plain_%s" % dname(dt), "rms_norm", [x],
                             cast_like(rms_norm(xs, 2, 1e-6), target(x)), rtol, atol))
    return cases


CASES = softmax_cases() + norm_cases()
