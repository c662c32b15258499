"""Golden cases for reshape, transpose, broadcast_to, slice, concat, gather
and pad (docs/ops.md). Shape ops move elements without arithmetic, so every
comparison is exact, for every dtype."""

import numpy as np

from make_golden import op_case, rng, to_bf16

ALL = [np.float32, np.float64, np.float16, "bf16", np.int8, np.int32, np.int64, np.bool_]


def dname(dt):
    return dt if isinstance(dt, str) else np.dtype(dt).name


def make(shape, dt, seed):
    """Distinct-looking values of dtype `dt`; bf16 as a Bf16Array."""
    g = rng(seed)
    if dt == np.bool_:
        return g.integers(0, 2, size=shape).astype(np.bool_)
    if dt in (np.int8, np.int32, np.int64):
        info = np.iinfo(dt)
        return g.integers(info.min, info.max, size=shape, endpoint=True).astype(dt)
    v = g.uniform(-100, 100, size=shape)
    return to_bf16(v) if dt == "bf16" else v.astype(dt)


def same_kind(x, values):
    """`values` (a NumPy result computed on x's storage) with x's type."""
    return np.asarray(values).view(type(x)) if type(x) is not np.ndarray else np.asarray(values)


def ints(v):
    return "[%s]" % ", ".join(str(int(i)) for i in v)


def case(name, op, inputs, want, attrs=None):
    return op_case(name, op, inputs, same_kind(inputs[0], want), attrs=attrs)


# ---- reshape ----

def reshape_cases():
    cases = []
    targets = [(4, -1), (24,), (1, 2, 1, 12), (-1, 3, 1)]
    for j, dt in enumerate(ALL):
        for t, target in enumerate(targets):
            x = make((2, 3, 4), dt, 5000 + 10 * j + t)
            want = np.reshape(np.asarray(x), target)
            cases.append(case("reshape_%s_%d" % (dname(dt), t), "reshape", [x], want,
                              {"shape": ints(target)}))
    x = make((1,), np.float32, 5100)
    cases.append(case("reshape_to_scalar", "reshape", [x], np.reshape(x, ()), {"shape": "[]"}))
    return cases


# ---- transpose ----

def transpose_cases():
    cases = []
    perms = [None, (1, 2, 0), (0, -1, 1), (2, 1, 0)]
    for j, dt in enumerate(ALL):
        for p, perm in enumerate(perms):
            x = make((2, 3, 5), dt, 5200 + 10 * j + p)
            want = np.transpose(np.asarray(x), perm)
            attrs = None if perm is None else {"perm": ints(perm)}
            cases.append(case("transpose_%s_%d" % (dname(dt), p), "transpose", [x], want, attrs))
    x = make((2, 1, 3, 4), np.float32, 5300)
    cases.append(case("transpose_rank4", "transpose", [x], np.transpose(x, (3, 0, 2, 1)),
                      {"perm": "[3, 0, 2, 1]"}))
    return cases


# ---- broadcast_to ----

def broadcast_cases():
    cases = []
    shapes = [((3, 1), (2, 3, 4)), ((1,), (5,)), ((), (2, 2)), ((1, 4), (3, 4)), ((2, 1, 3), (2, 5, 3))]
    for j, dt in enumerate(ALL):
        for s, (src, dst) in enumerate(shapes):
            x = make(src, dt, 5400 + 10 * j + s)
            want = np.broadcast_to(np.asarray(x), dst).copy()
            cases.append(case("broadcast_to_%s_%d" % (dname(dt), s), "broadcast_to", [x], want,
                              {"shape": ints(dst)}))
    return cases


# ---- slice ----

def python_slice(x, starts, ends, axes, steps):
    index = [slice(None)] * x.ndim
    for s, e, a, st in zip(starts, ends, axes, steps):
        index[a] = slice(s, e, st)
    return np.asarray(x)[tuple(index)].copy()


# (shape, starts, ends, axes, steps): steps > 1, clamping past both ends,
# negative starts/ends, negative steps (with clamping), several axes in any
# order, an empty result.
SLICES = [
    ((10,), [1], [8], [0], [3]),
    ((10,), [-3], [1000], [0], [1]),
    ((10,), [-1000], [2], [0], [1]),
    ((10,), [8], [2], [0], [-2]),
    ((10,), [1000], [-1000], [0], [-1]),
    ((10,), [-2], [-100], [0], [-4]),
    ((10,), [2], [8], [0], [-1]),
    ((4, 7), [1, -1], [3, -100], [1, 0], [1, -2]),
    ((3, 4, 5), [0, 4, -5], [-1, 0, 5], [0, 1, 2], [1, -1, 2]),
    ((3, 4, 5), [1], [1000], [-1], [2]),
]


def slice_cases():
    cases = []
    for j, dt in enumerate(ALL):
        for s, (shape, starts, ends, axes, steps) in enumerate(SLICES):
            x = make(shape, dt, 5500 + 20 * j + s)
            want = python_slice(x, starts, ends, axes, steps)
            attrs = {"starts": ints(starts), "ends": ints(ends), "axes": ints(axes),
                     "steps": ints(steps)}
            cases.append(case("slice_%s_%d" % (dname(dt), s), "slice", [x], want, attrs))
    # axes and steps left to their defaults.
    x = make((4, 5), np.float32, 5700)
    cases.append(case("slice_defaults", "slice", [x], x[1:3, -4:4].copy(),
                      {"starts": "[1, -4]", "ends": "[3, 4]"}))
    return cases


# ---- concat ----

def concat_cases():
    cases = []
    layouts = [([(2, 3), (4, 3)], 0), ([(2, 3), (2, 1), (2, 5)], 1), ([(2, 3, 1), (2, 3, 2)], -1),
               ([(3, 2)], 0), ([(1, 2, 3), (1, 0, 3), (1, 4, 3)], 1)]
    for j, dt in enumerate(ALL):
        for l, (shapes, axis) in enumerate(layouts):
            xs = [make(s, dt, 5800 + 20 * j + 5 * l + i) for i, s in enumerate(shapes)]
            want = np.concatenate([np.asarray(x) for x in xs], axis=axis)
            cases.append(case("concat_%s_%d" % (dname(dt), l), "concat", xs, want,
                              {"axis": str(axis)}))
    return cases


# ---- gather ----

def gather_ref(data, indices, axis):
    """NumPy take, except that indices still out of range after wrapping
    negatives give zeros."""
    data = np.asarray(data)
    dim = data.shape[axis]
    idx = np.asarray(indices).astype(np.int64)
    idx = np.where(idx < 0, idx + dim, idx)
    valid = (idx >= 0) & (idx < dim)
    out = np.take(data, np.where(valid, idx, 0), axis=axis)
    # Broadcast `valid` over the result: its axes sit at `axis`.
    axis = axis % data.ndim
    mask_shape = (1,) * axis + valid.shape + (1,) * (data.ndim - axis - 1)
    return np.where(valid.reshape(mask_shape), out, np.zeros((), dtype=data.dtype))


# (data shape, indices, axis): negative indices, out of range both ways,
# inner and last axes, scalar and 2-D indices.
GATHERS = [
    ((5, 3), [0, -1, 2, 4], 0),
    ((5, 3), [[1, 5], [-6, -5]], 0),
    ((2, 4, 3), [3, 0, -2], 1),
    ((2, 4, 3), 2, -1),
    ((2, 4, 3), [[-1, 7, 0]], -2),
]


def gather_cases():
    cases = []
    for j, dt in enumerate(ALL):
        for k, (shape, indices, axis) in enumerate(GATHERS):
            index_type = np.int32 if k % 2 == 0 else np.int64
            data = make(shape, dt, 6000 + 10 * j + k)
            idx = np.asarray(indices, dtype=index_type)
            want = gather_ref(data, idx, axis)
            cases.append(case("gather_%s_%d" % (dname(dt), k), "gather", [data, idx], want,
                              {"axis": str(axis)}))
    return cases


# ---- pad ----

def pad_ref(x, pads, mode, value):
    r = x.ndim
    widths = [(pads[d], pads[r + d]) for d in range(r)]
    a = np.asarray(x)
    if mode == "constant":
        return np.pad(a, widths, mode="constant", constant_values=np.asarray(value).astype(a.dtype))
    return np.pad(a, widths, mode="reflect" if mode == "reflect" else "edge")


# (shape, pads, mode, value): each mode, pads on one side only, pads up to
# dim - 1 for reflect, a non-zero constant.
PADS = [
    ((3, 4), [1, 0, 2, 3], "constant", 0.0),
    ((3, 4), [0, 2, 1, 0], "constant", -3.0),
    ((4,), [3, 2], "reflect", 0.0),
    ((3, 4), [2, 1, 1, 3], "reflect", 0.0),
    ((2, 3, 4), [1, 0, 2, 0, 2, 1], "reflect", 0.0),
    ((3, 4), [2, 1, 0, 5], "edge", 0.0),
    ((1, 3), [2, 2, 3, 0], "edge", 0.0),
]


def pad_cases():
    cases = []
    for j, dt in enumerate(ALL):
        for p, (shape, pads, mode, value) in enumerate(PADS):
            x = make(shape, dt, 6200 + 10 * j + p)
            if dt == np.bool_ and mode == "constant":
                value = 1.0
            if dt == "bf16":
                # NumPy pads the bit patterns; the constant must be the bf16
                # bit pattern of the value too.
                fill = np.asarray(to_bf16(np.float32(value))).view(np.uint16)
                want = pad_ref(np.asarray(x).view(np.uint16), pads, mode, fill)
            else:
                want = pad_ref(x, pads, mode, value)
            attrs = {"pads": ints(pads)}
            if mode != "constant":
                attrs["mode"] = '"%s"' % mode
            if value != 0.0:
                attrs["value"] = repr(float(value))
            cases.append(case("pad_%s_%d" % (dname(dt), p), "pad", [x], want, attrs))
    # A fill value with a fraction into an integer tensor truncates toward
    # zero (as `cast` does).
    x = make((2, 2), np.int32, 6300)
    cases.append(case("pad_i32_fraction", "pad", [x], pad_ref(x, [1, 1, 0, 0], "constant", -2.0),
                      {"pads": "[1, 1, 0, 0]", "value": "-2.75"}))
    return cases


CASES = (reshape_cases() + transpose_cases() + broadcast_cases() + slice_cases() +
         concat_cases() + gather_cases() + pad_cases())
