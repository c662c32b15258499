#!/usr/bin/python3
"""Writes the NumPy reference data the interpreter is checked against.

Usage: /usr/bin/python3 make_golden.py OUTDIR

Every `cases_*.py` module next to this file defines `CASES`, a list of dicts:

    dict(name=str,            # unique across all modules; names the directory
         nyx=str,             # module text with a @main function
         inputs=[np.ndarray], # one per parameter of @main, in order
         outputs=[np.ndarray],# one per result of @main, in order
         rtol=float, atol=float)

For each case this writes OUTDIR/<name>/ with case.nyx, in0.npy, in1.npy,
..., out0.npy, ..., and tol.txt ("rtol atol"). The test compares
|got - want| <= atol + rtol * |want| for float results (NaN matches NaN,
infinities match exactly) and exact equality for integer and bool results.

Dtypes: f32, f64, f16 (np.float16), i8, i32, i64, bool map to themselves.
bf16 has no NumPy type: a bf16 array is a uint16 array of bit patterns
viewed as `Bf16Array` (make one with `to_bf16`); it is saved as '<u2' and the
reader takes its dtype from @main's signature.

Helpers for case modules (import them with `from make_golden import ...`):
`nyx_type`, `to_bf16`, `from_bf16`, `unary_case`, `binary_case`, `op_case`,
`rng`. References are best computed in float64 and cast to the result dtype
so that the reference is rounded once.
"""

import importlib
import math
import os
import sys

import numpy as np


class Bf16Array(np.ndarray):
    """uint16 bit patterns of bfloat16 values."""


def to_bf16(x):
    """Rounds float values to bfloat16 (nearest even) as a Bf16Array."""
    f = np.array(x, dtype=np.float32, ndmin=1)
    shape = np.shape(x)
    u = f.view(np.uint32).astype(np.uint64)
    sixteen = np.uint64(16)
    rounded = ((u + np.uint64(0x7FFF) + ((u >> sixteen) & np.uint64(1))) >> sixteen)
    nan = np.isnan(f)
    rounded[nan] = (u[nan] >> sixteen) | np.uint64(0x40)
    return rounded.astype(np.uint16).reshape(shape).view(Bf16Array)


def from_bf16(b):
    """The float32 values of a Bf16Array."""
    u = np.asarray(b, dtype=np.uint16).astype(np.uint32) << 16
    return u.view(np.float32)


_DTYPE_NAMES = {
    np.dtype(np.float32): "f32",
    np.dtype(np.float64): "f64",
    np.dtype(np.float16): "f16",
    np.dtype(np.int8): "i8",
    np.dtype(np.int32): "i32",
    np.dtype(np.int64): "i64",
    np.dtype(np.bool_): "bool",
}


def dtype_name(a):
    if isinstance(a, Bf16Array):
        return "bf16"
    return _DTYPE_NAMES[a.dtype]


def nyx_type(a):
    """The .nyx spelling of an array's type: "f32[2,3]", "i64[]"."""
    return "%s[%s]" % (dtype_name(a), ",".join(str(d) for d in a.shape))


def format_attrs(attrs):
    return " {%s}" % ", ".join("%s = %s" % kv for kv in attrs.items()) if attrs else ""


def op_module(op, inputs, outputs, attrs=None):
    """A module whose @main applies one op to its parameters."""
    params = ", ".join("%%x%d: %s" % (i, nyx_type(a)) for i, a in enumerate(inputs))
    results = ", ".join(nyx_type(a) for a in outputs)
    names = ", ".join("%%y%d" % i for i in range(len(outputs)))
    args = ", ".join("%%x%d" % i for i in range(len(inputs)))
    return (
        "func @main(%s) -> (%s) {\n  %s = %s(%s)%s : %s\n  return %s\n}\n"
        % (params, results, names, op, args, format_attrs(attrs), results, names)
    )


def op_case(name, op, inputs, outputs, rtol=0.0, atol=0.0, attrs=None):
    outputs = outputs if isinstance(outputs, list) else [outputs]
    return dict(
        name=name,
        nyx=op_module(op, inputs, outputs, attrs),
        inputs=inputs,
        outputs=outputs,
        rtol=rtol,
        atol=atol,
    )


def rng(seed):
    return np.random.default_rng(seed)


def cast_like(ref, dtype):
    """Rounds a float64 reference to `dtype` ("bf16" or a NumPy dtype)."""
    if dtype == "bf16":
        return to_bf16(ref)
    return np.asarray(ref).astype(dtype)


def as_float64(a):
    if isinstance(a, Bf16Array):
        return from_bf16(a).astype(np.float64)
    return np.asarray(a).astype(np.float64)


# Tolerances per float dtype for results computed once in float64 and
# rounded: a little over one unit in the last place.
FLOAT_TOL = {
    "f64": (1e-12, 1e-14),
    "f32": (2e-6, 1e-7),
    "f16": (2e-3, 1e-4),
    "bf16": (1.6e-2, 1e-3),
}


def unary_case(name, op, x, ref_fn, attrs=None, tol=None):
    """`op` over x; ref_fn maps float64 (or int64) values to the result."""
    dt = dtype_name(x)
    if dt in FLOAT_TOL:
        want = cast_like(ref_fn(as_float64(x)), "bf16" if dt == "bf16" else x.dtype)
        rtol, atol = tol or FLOAT_TOL[dt]
    else:
        want = np.asarray(ref_fn(x)).astype(x.dtype)
        rtol, atol = 0.0, 0.0
    return op_case(name, op, [x], want, rtol, atol, attrs)


def binary_case(name, op, a, b, ref_fn, out_dtype=None, tol=None):
    """`op` over a and b (broadcast); ref_fn gets float64 for floats."""
    dt = dtype_name(a)
    if dt in FLOAT_TOL:
        ref = ref_fn(as_float64(a), as_float64(b))
        target = out_dtype or ("bf16" if dt == "bf16" else a.dtype)
        want = cast_like(ref, target)
        rtol, atol = tol or FLOAT_TOL[dt]
    else:
        want = np.asarray(ref_fn(a, b)).astype(out_dtype or a.dtype)
        rtol, atol = 0.0, 0.0
    return op_case(name, op, [a, b], want, rtol, atol)


def erf(x):
    return np.vectorize(math.erf, otypes=[np.float64])(x)


def write_case(outdir, case):
    d = os.path.join(outdir, case["name"])
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "case.nyx"), "w") as f:
        f.write(case["nyx"])
    for kind in ("inputs", "outputs"):
        prefix = "in" if kind == "inputs" else "out"
        for i, a in enumerate(case[kind]):
            # The reader takes C order only (a transposed view would be saved
            # in Fortran order).
            np.save(os.path.join(d, "%s%d.npy" % (prefix, i)), np.asarray(a, order="C"))
    with open(os.path.join(d, "tol.txt"), "w") as f:
        f.write("%r %r\n" % (float(case["rtol"]), float(case["atol"])))


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: make_golden.py OUTDIR\n")
        return 2
    outdir = argv[1]
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    # Case modules import helpers from here; let them share this instance.
    sys.modules.setdefault("make_golden", sys.modules[__name__])
    names = set()
    count = 0
    for fn in sorted(os.listdir(here)):
        if not (fn.startswith("cases_") and fn.endswith(".py")):
            continue
        # Cases overflow and divide by zero on purpose (casts, IEEE corners).
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            module = importlib.import_module(fn[:-3])
        for case in module.CASES:
            if case["name"] in names:
                sys.stderr.write("duplicate case name %s in %s\n" % (case["name"], fn))
                return 1
            names.add(case["name"])
            write_case(outdir, case)
            count += 1
    print("wrote %d cases to %s" % (count, outdir))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
