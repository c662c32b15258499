"""Golden cases for conv2d, max_pool2d and avg_pool2d (docs/ops.md), with
NumPy references written out directly: strides, asymmetric padding,
dilation, groups (depthwise included), bias, count_include_pad both ways."""

import numpy as np

from make_golden import FLOAT_TOL, as_float64, cast_like, dtype_name, op_case, rng, to_bf16

FLOATS = [np.float32, np.float64, np.float16, "bf16"]


def dname(dt):
    return dt if isinstance(dt, str) else np.dtype(dt).name


def make(shape, dt, seed, low=-2.0, high=2.0):
    v = rng(seed).uniform(low, high, size=shape)
    return to_bf16(v) if dt == "bf16" else v.astype(dt)


def ints(v):
    return "[%s]" % ", ".join(str(int(i)) for i in v)


def out_size(size, before, after, kernel, stride, dilation):
    return (size + before + after - dilation * (kernel - 1) - 1) // stride + 1


def conv2d_ref(x, w, b, strides, padding, dilations, groups):
    """float64 NCHW convolution: one strided window slice per kernel tap."""
    n, c, h, wd = x.shape
    m, cg, kh, kw = w.shape
    top, left, bottom, right = padding
    sh, sw = strides
    dh, dw = dilations
    oh = out_size(h, top, bottom, kh, sh, dh)
    ow = out_size(wd, left, right, kw, sw, dw)
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    out = np.zeros((n, m, oh, ow))
    mg = m // groups
    for g in range(groups):
        xg = xp[:, g * cg:(g + 1) * cg]
        wg = w[g * mg:(g + 1) * mg]
        for i in range(kh):
            for j in range(kw):
                patch = xg[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh,
                           j * dw:j * dw + sw * (ow - 1) + 1:sw]
                out[:, g * mg:(g + 1) * mg] += np.einsum("nchw,mc->nmhw", patch, wg[:, :, i, j])
    if b is not None:
        out += b.reshape(1, m, 1, 1)
    return out


# (x shape, w shape, bias?, strides, padding, dilations, groups)
CONVS = [
    ((1, 3, 7, 7), (4, 3, 3, 3), False, (1, 1), (0, 0, 0, 0), (1, 1), 1),
    ((2, 3, 6, 5), (4, 3, 3, 3), True, (1, 1), (1, 1, 1, 1), (1, 1), 1),
    ((1, 2, 9, 8), (3, 2, 3, 2), True, (2, 3), (1, 0, 2, 1), (1, 1), 1),
    ((1, 2, 9, 9), (2, 2, 3, 3), False, (1, 1), (2, 2, 2, 2), (2, 2), 1),
    ((2, 4, 5, 6), (6, 2, 3, 1), True, (1, 2), (0, 1, 1, 0), (1, 3), 2),
    ((1, 5, 6, 6), (5, 1, 3, 3), True, (1, 1), (1, 1, 1, 1), (1, 1), 5),
    ((1, 3, 5, 7), (6, 1, 2, 2), False, (2, 2), (0, 0, 1, 1), (1, 1), 3),
    ((3, 4, 4, 4), (5, 4, 1, 1), True, (1, 1), (0, 0, 0, 0), (1, 1), 1),
    ((1, 1, 3, 3), (1, 1, 3, 3), True, (1, 1), (0, 0, 0, 0), (1, 1), 1),
]

# Allowance for sums with cancellation, on top of the per-element tolerance.
SUM_ATOL = {"f64": 1e-13, "f32": 2e-6, "f16": 4e-3, "bf16": 3e-2}


def conv_cases():
    cases = []
    for j, dt in enumerate(FLOATS):
        for k, (xs, ws, has_bias, strides, padding, dilations, groups) in enumerate(CONVS):
            seed = 7000 + 100 * j + 10 * k
            x = make(xs, dt, seed)
            w = make(ws, dt, seed + 1)
            inputs = [x, w]
            b = None
            if has_bias:
                bias = make((ws[0],), dt, seed + 2)
                inputs.append(bias)
                b = as_float64(bias)
            want = conv2d_ref(as_float64(x), as_float64(w), b, strides, padding, dilations, groups)
            rtol, atol = FLOAT_TOL[dtype_name(x)]
            attrs = {"strides": ints(strides), "padding": ints(padding),
                     "dilations": ints(dilations), "groups": str(groups)}
            target = "bf16" if dt == "bf16" else x.dtype
            cases.append(op_case("conv2d_%s_%d" % (dname(dt), k), "conv2d", inputs,
                                 cast_like(want, target), rtol,
                                 max(atol, SUM_ATOL[dtype_name(x)]), attrs))
    return cases


def pool_ref(x, kernel, strides, padding, reduce, fill):
    """Applies `reduce` to each window of x padded with `fill`."""
    n, c, h, w = x.shape
    kh, kw = kernel
    sh, sw = strides
    top, left, bottom, right = padding
    oh = out_size(h, top, bottom, kh, sh, 1)
    ow = out_size(w, left, right, kw, sw, 1)
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=fill)
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            out[:, :, i, j] = reduce(xp[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw])
    return out


def max_pool_ref(x, kernel, strides, padding):
    # np.max propagates NaN; -inf padding never wins against an input.
    return pool_ref(x, kernel, strides, padding, lambda win: np.max(win, axis=(2, 3)), -np.inf)


def avg_pool_ref(x, kernel, strides, padding, count_include_pad):
    sums = pool_ref(x, kernel, strides, padding, lambda win: np.sum(win, axis=(2, 3)), 0.0)
    if count_include_pad:
        return sums / (kernel[0] * kernel[1])
    counts = pool_ref(np.ones_like(x), kernel, strides, padding,
                      lambda win: np.sum(win, axis=(2, 3)), 0.0)
    return sums / counts


# (x shape, kernel, strides or None for the default (the kernel), padding)
POOLS = [
    ((1, 2, 6, 6), (2, 2), None, (0, 0, 0, 0)),
    ((2, 3, 7, 5), (3, 3), (2, 2), (1, 1, 1, 1)),
    ((1, 1, 5, 8), (2, 3), (1, 2), (1, 0, 0, 2)),
    ((1, 2, 4, 4), (3, 2), (1, 1), (2, 1, 2, 1)),
    ((1, 1, 7, 7), (1, 1), (2, 3), (0, 0, 0, 0)),
]


def pool_attrs(kernel, strides, padding):
    attrs = {"kernel": ints(kernel), "padding": ints(padding)}
    if strides is not None:
        attrs["strides"] = ints(strides)
    return attrs


def pool_cases():
    cases = []
    for j, dt in enumerate(FLOATS):
        for k, (xs, kernel, strides, padding) in enumerate(POOLS):
            seed = 8000 + 100 * j + 10 * k
            # All negative inputs in one case: a padded zero would win max.
            low, high = (-5.0, -1.0) if k == 3 else (-2.0, 2.0)
            x = make(xs, dt, seed, low, high)
            xf = as_float64(x)
            rtol, atol = FLOAT_TOL[dtype_name(x)]
            target = "bf16" if dt == "bf16" else x.dtype
            st = strides or kernel
            cases.append(op_case("max_pool2d_%s_%d" % (dname(dt), k), "max_pool2d", [x],
                                 cast_like(max_pool_ref(xf, kernel, st, padding), target),
                                 0.0, 0.0, pool_attrs(kernel, strides, padding)))
            for include in (False, True):
                attrs = pool_attrs(kernel, strides, padding)
                if include:
                    attrs["count_include_pad"] = "true"
                want = avg_pool_ref(xf, kernel, st, padding, include)
                cases.append(op_case("avg_pool2d_%s_%d_%s" % (dname(dt), k, "incl" if include else "excl"),
                                     "avg_pool2d", [x], cast_like(want, target), rtol, atol, attrs))
    # NaN inside a window propagates.
    x = make((1, 1, 2, 4), np.float32, 8900)
    x[0, 0, 1, 2] = np.nan
    cases.append(op_case("max_pool2d_f32_nan", "max_pool2d", [x],
                         max_pool_ref(x.astype(np.float64), (2, 2), (2, 2), (0, 0, 0, 0)).astype(np.float32),
                         0.0, 0.0, {"kernel": "[2, 2]"}))
    return cases


CASES = conv_cases() + pool_cases()
