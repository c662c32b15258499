"""Golden cases for batch_norm (docs/ops.md): every float dtype, the default
channel axis of NCHW, the last axis, negative axes, rank 1, and an epsilon
that decides the result."""

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


def batch_norm(x, scale, bias, mean, var, axis, eps):
    """The reference in float64: the vectors broadcast along `axis`."""
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]

    def along(v):
        return v.reshape(shape)

    return (x - along(mean)) * (along(scale) / np.sqrt(along(var) + eps)) + along(bias)


def case(name, x, vecs, axis, eps, attrs):
    """batch_norm of x with vecs = [scale, bias, mean, var]."""
    xs = as_float64(x)
    s, b, m, v = (as_float64(t) for t in vecs)
    want = cast_like(batch_norm(xs, s, b, m, v, axis % x.ndim, eps), target(x))
    rtol, atol = FLOAT_TOL[dtype_name(x)]
    return op_case(name, "batch_norm", [x] + list(vecs), want, rtol, atol, attrs=attrs)


def vectors(r, n, dt):
    """scale, bias, mean, var for `n` channels; var is positive."""
    return [
        make(r.uniform(0.5, 2.0, size=n), dt),
        make(r.uniform(-1, 1, size=n), dt),
        make(r.uniform(-1, 1, size=n), dt),
        make(r.uniform(0.1, 3.0, size=n), dt),
    ]


def batch_norm_cases():
    cases = []
    for j, dt in enumerate(FLOATS):
        r = rng(6000 + j)
        # NCHW with the default axis 1.
        x = make(r.normal(0.3, 2.0, size=(2, 3, 4, 5)), dt)
        cases.append(case("batch_norm_nchw_%s" % dname(dt), x, vectors(r, 3, dt), 1, 1e-5, None))
        # Features on the last axis, as after a matmul.
        x = make(r.normal(0.0, 1.5, size=(4, 6)), dt)
        cases.append(case("batch_norm_last_axis_%s" % dname(dt), x, vectors(r, 6, dt), -1, 1e-5,
                          {"axis": "-1"}))
    r = rng(6100)
    x = make(r.normal(size=(3, 4, 2)), np.float32)
    for axis in [0, 2, -2, -3]:
        name = "batch_norm_axis%s_f32" % str(axis).replace("-", "m")
        cases.append(case(name, x, vectors(r, x.shape[axis], np.float32), axis, 1e-5,
                          {"axis": str(axis)}))
    x = make(r.normal(size=7), np.float64)
    cases.append(case("batch_norm_rank1_f64", x, vectors(r, 7, np.float64), 0, 1e-5,
                      {"axis": "0"}))
    # A zero variance: epsilon alone scales the channel.
    x = make(r.normal(size=(2, 3, 2, 2)), np.float32)
    vs = vectors(r, 3, np.float32)
    vs[3] = np.zeros(3, np.float32)
    cases.append(case("batch_norm_epsilon_f32", x, vs, 1, 0.25, {"epsilon": "0.25"}))
    # NaN stays in its element; a negative var + epsilon makes its channel NaN.
    x = np.array([[1.0, np.nan], [2.0, 3.0]], np.float32)
    vs = [np.array(v, np.float32) for v in ([1.0, 2.0], [0.5, -0.5], [0.0, 1.0], [1.0, -4.0])]
    cases.append(case("batch_norm_nan_f32", x, vs, 1, 1e-5, None))
    return cases


CASES = batch_norm_cases()
