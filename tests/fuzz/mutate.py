#!/usr/bin/env python3
"""Mutation fuzzer for the Nyx tools, standard library only.

Takes seed models (the lit tests, the MLP example and their JSON form),
mutates them, runs nyx-opt, nyxc and nyx-run on each mutant and reports every
run that breaks the rule for bad input: a clear "error:" diagnostic and a
non-zero exit, never a signal, a hang, a sanitizer report or an uncaught
exception. Malformed safetensors weights and .npy inputs are fuzzed too.

usage: mutate.py --bin-dir BUILD/tools [--cases N] [--seed S] [--jobs J]
                 [--timeout SECONDS] [--keep DIR] [--quiet]

N defaults to $NYX_FUZZ_CASES, or 300. Exit status 1 when any problem was
found; each distinct one is printed with a reproducer (saved under --keep).
"""
import argparse
import concurrent.futures
import json
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

DTYPES = ["f32", "f16", "bf16", "f64", "i8", "i32", "i64", "bool"]
ST_DTYPES = {"f32": "F32", "f16": "F16", "bf16": "BF16", "f64": "F64",
             "i8": "I8", "i32": "I32", "i64": "I64", "bool": "BOOL"}
DTYPE_SIZE = {"f32": 4, "f16": 2, "bf16": 2, "f64": 8, "i8": 1, "i32": 4,
              "i64": 8, "bool": 1}
NPY_DESCR = {"f32": "<f4", "f16": "<f2", "f64": "<f8", "i8": "|i1",
             "i32": "<i4", "i64": "<i8", "bool": "|b1"}

INTERESTING_INTS = [
    "0", "1", "-1", "2", "3", "7", "255", "65536", "2147483647", "2147483648",
    "4294967296", "-2147483649", "9223372036854775807", "9223372036854775808",
    "-9223372036854775808", "-9223372036854775809",
    "99999999999999999999999", "1000000000", "100000", "3037000500",
]
INTERESTING_FLOATS = [
    "0.0", "-0.0", "1e308", "1e400", "-1e400", "1e-400", "3.4e38", "3.5e38",
    "65504.0", "65520.0", "inf", "-inf", "nan", "-nan", "0x7fc00001",
    "0xffffffffffffffffff", "1.5", "-2.5e-45",
]
HUGE_SHAPES = [
    "4294967296,4294967296,16", "9223372036854775807,2", "3037000500,3037000500",
    "1000000000000", "100000,100000,100000", "1000000000", "0,9223372036854775807",
    "65536,65536,65536,65536", "2147483648", "1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1",
    ",".join(["2"] * 70), "", "0", "268435456",
]
ATTR_VALUES = [
    "1", "-1", "0", "9223372036854775807", "1.5", "true", "false", "\"s\"",
    "[]", "[1, 2]", "[1.0, -2.5]", "[9223372036854775807, -9223372036854775808]",
    "f32", "i64", "@main", "@nope", "dense<1.0>", "dense<[1, 2]> : i32[2]",
    "dense<0> : f32[1000000000]", "dense<[[1]]> : f32[1]", "[-1, -2, -3]",
    "[0, 0, 0, 0]", "[1000000000, 1000000000]", "-9223372036854775808",
]

TOKEN_RE = re.compile(
    r"//[^\n]*|\s+|[%@](?:\"(?:[^\"\\]|\\.)*\"|[A-Za-z0-9_.\-]+)"
    r"|\"(?:[^\"\\]|\\.)*\"|0[xX][0-9a-fA-F]+|-?[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?"
    r"|[A-Za-z_][A-Za-z0-9_.]*|->|.", re.S)


def tokens_of(text):
    return TOKEN_RE.findall(text)


def is_space(tok):
    return tok.isspace() or tok.startswith("//")


# ---- text mutations --------------------------------------------------------


def m_delete_token(rng, toks, pool):
    if toks:
        del toks[rng.randrange(len(toks))]


def m_duplicate_token(rng, toks, pool):
    if toks:
        i = rng.randrange(len(toks))
        toks.insert(i, toks[i])


def m_swap_tokens(rng, toks, pool):
    if len(toks) > 1:
        i, j = rng.randrange(len(toks)), rng.randrange(len(toks))
        toks[i], toks[j] = toks[j], toks[i]


def m_replace_token(rng, toks, pool):
    if toks:
        toks[rng.randrange(len(toks))] = rng.choice(pool)


def pick(rng, toks, pred):
    idx = [i for i, t in enumerate(toks) if pred(t)]
    return rng.choice(idx) if idx else None


def m_number(rng, toks, pool):
    i = pick(rng, toks, lambda t: re.fullmatch(r"-?[0-9][0-9.eE+\-]*|0[xX].*", t))
    if i is not None:
        toks[i] = rng.choice(INTERESTING_INTS + INTERESTING_FLOATS)


def m_attr_number(rng, toks, pool):
    # A number inside an attribute dict: shapes, axes, pads, strides, kernels.
    depth, idx = 0, []
    for i, t in enumerate(toks):
        depth += (t == "{") - (t == "}")
        if depth > 0 and re.fullmatch(r"-?[0-9]+", t):
            idx.append(i)
    if idx:
        toks[rng.choice(idx)] = rng.choice(INTERESTING_INTS + ["-2", "-3", "4", "5"])


def m_dtype(rng, toks, pool):
    i = pick(rng, toks, lambda t: t in DTYPES)
    if i is not None:
        toks[i] = rng.choice(DTYPES + ["f8", "u32", "F32", "i128"])


def m_shape(rng, toks, pool):
    # Replace the dimensions of one tensor type: dtype '[' ... ']'.
    starts = [i for i in range(len(toks) - 1)
              if toks[i] in DTYPES and toks[i + 1] == "["]
    if not starts:
        return
    s = rng.choice(starts) + 1
    e = s
    while e < len(toks) and toks[e] != "]":
        e += 1
    if e < len(toks):
        toks[s + 1:e] = [rng.choice(HUGE_SHAPES)]


def m_attr_kind(rng, toks, pool):
    # Replace the value after `name =` inside an attribute dict.
    idx = [i for i in range(len(toks) - 2)
           if toks[i + 1] == "=" or (toks[i + 1].isspace() and toks[i + 2] == "=")]
    idx = [i for i in idx if not toks[i].startswith("%")]
    if not idx:
        return
    i = rng.choice(idx)
    j = toks.index("=", i) + 1
    while j < len(toks) and toks[j].isspace():
        j += 1
    if j >= len(toks):
        return
    end = j + 1
    if toks[j] in ("[", "dense"):
        depth = 0
        end = j
        while end < len(toks):
            if toks[end] in ("[", "<"):
                depth += 1
            elif toks[end] in ("]", ">"):
                depth -= 1
                if depth == 0:
                    end += 1
                    break
            end += 1
    toks[j:end] = [rng.choice(ATTR_VALUES)]


def m_truncate(rng, toks, pool):
    if toks:
        del toks[rng.randrange(len(toks)):]


def m_random_bytes(rng, toks, pool):
    choices = ["\x00", "\xff", "\x7f", "\u00e9", "\u2603", "\U0001F600",
               "\ufeff", "\r", "\t", "\\", "\"", "'", "#", "$", "\u202e"]
    text = "".join(rng.choice(choices) for _ in range(rng.randint(1, 6)))
    toks.insert(rng.randrange(len(toks) + 1), text)


def m_deep_nesting(rng, toks, pool):
    depth = rng.choice([100, 1000, 20000, 200000])
    kind = rng.randrange(4)
    if kind == 0:
        text = "[" * depth + "1" + "]" * depth
    elif kind == 1:
        text = "dense<" + "[" * depth + "1" + "]" * depth + ">"
    elif kind == 2:
        text = "(" * depth
    else:
        text = "{" * depth + "}" * depth
    toks.insert(rng.randrange(len(toks) + 1), text)


def m_long_name(rng, toks, pool):
    i = pick(rng, toks, lambda t: t[:1] in "%@")
    if i is not None:
        toks[i] = toks[i][0] + rng.choice("abx_") * rng.choice([300, 5000, 100000])


def m_splice(rng, toks, pool):
    # Copy a run of tokens to another place.
    if len(toks) > 2:
        i = rng.randrange(len(toks))
        j = min(len(toks), i + rng.randint(1, 30))
        toks[rng.randrange(len(toks)):0] = toks[i:j]


TOKEN_MUTATORS = [m_delete_token, m_duplicate_token, m_swap_tokens,
                  m_replace_token, m_number, m_number, m_attr_number,
                  m_attr_number, m_attr_number, m_dtype, m_dtype, m_shape,
                  m_shape, m_attr_kind, m_attr_kind, m_truncate, m_random_bytes,
                  m_deep_nesting, m_long_name, m_splice]


def m_lines(rng, text):
    lines = text.split("\n")
    if len(lines) < 2:
        return text
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    op = rng.randrange(3)
    if op == 0:
        del lines[i]
    elif op == 1:
        lines.insert(i, lines[j])
    else:
        lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines)


def mutate_text(rng, text, pool):
    for _ in range(rng.choice([1, 1, 1, 2, 3, 5])):
        if rng.random() < 0.15:
            text = m_lines(rng, text)
            continue
        toks = tokens_of(text)
        rng.choice(TOKEN_MUTATORS)(rng, toks, pool)
        text = "".join(toks)
    return text


# ---- JSON mutations --------------------------------------------------------


def json_nodes(root):
    stack = [((), root)]
    while stack:
        path, node = stack.pop()
        yield path, node
        if isinstance(node, dict):
            stack += [(path + (k,), v) for k, v in node.items()]
        elif isinstance(node, list):
            stack += [(path + (k,), v) for k, v in enumerate(node)]


def json_set(root, path, value):
    if not path:
        return value
    node = root
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    return root


def json_delete(root, path):
    node = root
    for k in path[:-1]:
        node = node[k]
    del node[path[-1]]


JSON_VALUES = [None, True, False, 0, -1, 1, 2 ** 63 - 1, 2 ** 63, -2 ** 63,
               2 ** 64, 10 ** 30, 1.5, 1e308, "", "x", "f32", "bf16", "tensor",
               "int", "ints", "floats", "symbol", "dtype", "inf", "nan", [],
               [1, 2], [4294967296, 4294967296, 16], [2 ** 62, 4],
               [-1], {}, {"kind": "tensor"},
               {"kind": "tensor", "dtype": "f32", "shape": [1000000000], "data": []},
               {"kind": "ints", "value": [2 ** 63 - 1, -1]}]


def mutate_json(rng, root):
    for _ in range(rng.choice([1, 1, 2, 3])):
        nodes = list(json_nodes(root))
        path, node = rng.choice(nodes)
        op = rng.randrange(6)
        if op == 0 and path:
            json_delete(root, path)
        elif op == 1:
            root = json_set(root, path, rng.choice(JSON_VALUES))
        elif op == 2 and isinstance(node, list) and node:
            node.append(rng.choice(node))
        elif op == 3 and isinstance(node, (int, float)) and not isinstance(node, bool):
            root = json_set(root, path, rng.choice(
                [0, -1, 2 ** 63 - 1, -2 ** 63, 2 ** 64, 3037000500, 1e300, -node]))
        elif op == 4:
            # Nested arrays are spliced in as text by dump_json.
            root = json_set(root, path, DEEP_MARK % rng.choice([100, 5000, 100000]))
        elif op == 5 and isinstance(node, str):
            root = json_set(root, path, node + rng.choice(["", "\u2603", "\x00"]) * 3
                            if rng.random() < 0.5 else "a" * 100000)
    return root


DEEP_MARK = "<deep %d>"


def dump_json(root):
    text = json.dumps(root)
    return re.sub(r'"<deep (\d+)>"',
                  lambda m: "[" * int(m.group(1)) + "0" + "]" * int(m.group(1)), text)


# ---- weights and .npy files ------------------------------------------------

PARAM_RE = re.compile(r"param\s+@([A-Za-z0-9_.\-]+)\s*:\s*([a-z0-9]+)\[([0-9,\s]*)\]")


def declared_params(text):
    out = []
    for name, dtype, dims in PARAM_RE.findall(text):
        try:
            shape = [int(d) for d in dims.split(",") if d.strip()]
        except ValueError:
            return None
        out.append((name, dtype, shape))
    return out


def json_params(root):
    """The well-formed param declarations of a (mutated) JSON module."""
    out = []
    params = root.get("params") if isinstance(root, dict) else None
    for p in params if isinstance(params, list) else []:
        t = p.get("type") if isinstance(p, dict) else None
        if not isinstance(t, dict):
            continue
        name, dtype, shape = p.get("name"), t.get("dtype"), t.get("shape")
        if isinstance(name, str) and isinstance(dtype, str) and \
                isinstance(shape, list) and \
                all(type(d) is int and d >= 0 for d in shape):
            out.append((name, dtype, shape))
    return out


def count_of(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def safetensors_bytes(params, rng=None):
    header, blobs, offset = {}, [], 0
    for name, dtype, shape in params:
        if dtype not in ST_DTYPES:
            continue
        size = count_of(shape) * DTYPE_SIZE[dtype]
        if size > (1 << 22):
            return None
        blob = bytes((i * 7 + 1) % 64 for i in range(size)) if dtype != "bool" \
            else bytes(i % 2 for i in range(size))
        header[name] = {"dtype": ST_DTYPES[dtype], "shape": shape,
                        "data_offsets": [offset, offset + size]}
        blobs.append(blob)
        offset += size
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def mutate_safetensors(rng, params):
    data = safetensors_bytes(params)
    (hlen,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + hlen])
    body = data[8 + hlen:]
    op = rng.randrange(8)
    if op == 0:
        return data[:rng.randrange(len(data))]
    if op == 1:
        return struct.pack("<Q", rng.choice([2 ** 64 - 1, 2 ** 63, 2 ** 32,
                                             len(data), hlen + 1, 0])) + data[8:]
    if op == 2:
        b = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            b[rng.randrange(8, len(b))] = rng.randrange(256)
        return bytes(b)
    names = [k for k in header if k != "__metadata__"]
    if names:
        entry = header[rng.choice(names)]
        if op == 3:
            entry["dtype"] = rng.choice(["F32", "F16", "BF16", "F64", "I8", "I16",
                                         "U8", "BOOL", "F8_E4M3", "", 7, None])
        elif op == 4:
            entry["shape"] = rng.choice([[4294967296, 4294967296, 16],
                                         [2 ** 63 - 1], [-1], [], [0],
                                         [1] * 9, ["2"], 3])
        elif op == 5:
            entry["data_offsets"] = rng.choice([[0, 2 ** 64 - 1], [8, 4],
                                                [0, 0], [2 ** 63, 2 ** 63 + 4],
                                                [-1, 3], [0], "x"])
    if op == 6:
        header["__metadata__"] = rng.choice([{"a": "b"}, {"a": 1}, [], "x"])
    if op == 7:
        text = json.dumps(header).encode()
        text = text[:rng.randrange(len(text) + 1)] + rng.choice(
            [b"", b"\x00", b"{", b"\xff\xfe", b"[" * 100000])
        return struct.pack("<Q", len(text)) + text + body
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + body


def npy_bytes(dtype, shape, header_text=None, data=None, version=1):
    descr = NPY_DESCR.get(dtype, "<f4")
    if header_text is None:
        dims = ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "")
        header_text = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
            descr, dims)
    h = header_text.encode("latin-1", "replace")
    pre = 10 if version == 1 else 12
    h += b" " * (-(pre + len(h) + 1) % 64) + b"\n"
    if version == 1:
        head = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h) & 0xFFFF)
    else:
        head = b"\x93NUMPY" + bytes([version, 0]) + struct.pack("<I", len(h))
    if data is None:
        data = bytes(count_of(shape) * DTYPE_SIZE.get(dtype, 4))
    return head + h + data


def mutate_npy(rng, dtype, shape):
    op = rng.randrange(7)
    good = npy_bytes(dtype, shape)
    if op == 0:
        return good[:rng.randrange(len(good))]
    if op == 1:
        b = bytearray(good)
        for _ in range(rng.randint(1, 6)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        return bytes(b)
    if op == 2:
        dims = rng.choice(["4294967296, 4294967296, 16", "9223372036854775807,",
                           "99999999999999999999999,", "-1,", "1, 1, 1, 1, 1, 1, 1, 1, 1",
                           "", "4, 3, ", "0,", "a"])
        return npy_bytes(dtype, shape, "{'descr': '%s', 'fortran_order': False, "
                         "'shape': (%s), }" % (NPY_DESCR.get(dtype, "<f4"), dims))
    if op == 3:
        descr = rng.choice(["<f4", ">f4", "<f2", "<u2", "|b1", "<i8", "<c8", "",
                            "x" * 100, "<V4"])
        return npy_bytes(dtype, shape, "{'descr': '%s', 'fortran_order': False, "
                         "'shape': (%s), }" % (descr, ", ".join(map(str, shape)) + ","))
    if op == 4:
        return good[:8] + struct.pack("<H", rng.choice([0, 1, 65535])) + good[10:]
    if op == 5:
        return npy_bytes(dtype, shape, version=rng.choice([2, 3, 4, 0]))
    text = rng.choice(["{", "{}", "{'descr': '<f4'}", "{'shape': ((((", "\x00" * 40,
                       "{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }",
                       "{'descr': '<f4', 'descr': '<f4', }"])
    return npy_bytes(dtype, shape, text)


# ---- running ---------------------------------------------------------------

SANITIZER_MARKS = ["AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer",
                   "runtime error:", "terminate called", "Assertion", "assertion",
                   "Stack dump:", "PLEASE submit a bug report", "LLVM ERROR"]


def classify(rc, stderr, timed_out):
    if timed_out:
        return "timeout"
    for mark in SANITIZER_MARKS:
        if mark in stderr:
            return "report: " + mark
    if rc < 0:
        return "signal %d" % -rc
    if rc != 0 and "error:" not in stderr:
        return "exit %d without 'error:'" % rc
    if rc != 0 and "error: " in stderr and stderr.count("\n") > 20:
        return "exit %d with a long stderr" % rc
    return None


def signature(problem, stderr):
    # The first stack frame inside the project, so one bug is one report.
    frames = re.findall(r"#\d+ 0x[0-9a-f]+ in (\S+) (/\S+)", stderr)
    for fn, where in frames:
        if "/work/" in where or "/main/" in where:
            return "%s @ %s" % (problem, re.sub(r":\d+$", "", where.split("/")[-1]))
    m = re.search(r"(\S+:\d+:\d+: runtime error: [^\n]*)", stderr)
    if m:
        return "%s @ %s" % (problem, m.group(1).split("/")[-1][:120])
    return problem


def run_tool(argv, timeout, cwd):
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:max_allocation_size_mb=4096:"
                   "allocator_may_return_null=0")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout, cwd=cwd, env=env)
        return p.returncode, p.stderr.decode("utf-8", "replace"), False
    except subprocess.TimeoutExpired as e:
        return -9, (e.stderr or b"").decode("utf-8", "replace"), True


def brief(stderr):
    """The lines of stderr worth reading: messages and the project's frames."""
    lines = stderr.strip().splitlines()
    keep = [l[:300] for l in lines
            if "/work/" in l or "ERROR" in l or "SUMMARY" in l or "error" in l
            or "terminate" in l]
    keep = keep[:20]
    return keep or [l[:300] for l in lines[-10:]]


class Fuzzer:
    def __init__(self, args):
        self.args = args
        self.bin = os.path.abspath(args.bin_dir)
        self.work = tempfile.mkdtemp(prefix="nyx-fuzz-")
        self.seeds = []  # (name, text, kind) with kind "nyx" or "json"
        self.problems = {}
        self.accepted = 0  # runs that exited 0: mutants the tools took as valid

    def tool(self, name):
        return os.path.join(self.bin, name)

    def load_seeds(self):
        paths = []
        for base in ["tests/lit", "tests/fuzz/seeds", "examples/mlp"]:
            for d, _, files in os.walk(os.path.join(ROOT, base)):
                paths += [os.path.join(d, f) for f in files if f.endswith(".nyx")]
        for p in sorted(paths):
            with open(p, encoding="utf-8", errors="replace") as f:
                text = f.read()
            self.seeds.append((os.path.relpath(p, ROOT), text, "nyx"))
            rc = subprocess.run([self.tool("nyx-opt"), "--emit=json", p],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            if rc.returncode == 0:
                self.seeds.append((os.path.relpath(p, ROOT) + ".json",
                                   rc.stdout.decode(), "json"))
        pool = set()
        for _, text, kind in self.seeds:
            if kind == "nyx":
                pool.update(t for t in tokens_of(text) if not is_space(t))
        self.pool = sorted(pool)
        self.valid = [s for s in self.seeds if s[0].endswith(".json")]

    def case(self, index):
        rng = random.Random("%d-%d" % (self.args.seed, index))
        d = os.path.join(self.work, "c%d" % index)
        os.makedirs(d)
        kind = rng.random()
        if kind < 0.08:
            return self.weights_case(rng, d)
        if kind < 0.14:
            return self.npy_case(rng, d)
        # The seeds of tests/fuzz cover every op, so they get half the draws.
        own = [s for s in self.seeds if s[0].startswith("tests/fuzz/")]
        name, text, form = rng.choice(own if own and rng.random() < 0.5
                                      else self.seeds)
        if form == "json" and rng.random() < 0.7:
            root = mutate_json(rng, json.loads(text))
            mutated = dump_json(root)
            params = json_params(root)
        else:
            mutated = mutate_text(rng, text, self.pool)
            params = declared_params(mutated) or []
        path = os.path.join(d, "in." + form)
        with open(path, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(mutated)
        runs = [[self.tool("nyx-opt"), path]]
        if rng.random() < 0.3:
            runs.append([self.tool("nyx-opt"), "--passes=shape-infer,inline",
                         "--emit=json", path])
        extra = []
        if params:
            blob = safetensors_bytes(params)
            if blob is not None:
                w = os.path.join(d, "w.safetensors")
                with open(w, "wb") as f:
                    f.write(blob)
                extra = ["--weights", w]
        runs.append([self.tool("nyxc"), "--emit=llvm", "-o", "/dev/null", path] + extra)
        if rng.random() < 0.5:
            runs.append([self.tool("nyxc"), "-o", os.path.join(d, "x.o"), path] + extra)
        return self.execute(runs, d, "model from " + name)

    def weights_case(self, rng, d):
        model = rng.choice(["tests/lit/Inputs/affine.nyx", "examples/mlp/mlp.nyx"])
        with open(os.path.join(ROOT, model)) as f:
            params = declared_params(f.read())
        w = os.path.join(d, "w.safetensors")
        with open(w, "wb") as f:
            f.write(mutate_safetensors(rng, params))
        runs = [[self.tool("nyxc"), "--emit=llvm", "-o", "/dev/null",
                 os.path.join(ROOT, model), "--weights", w]]
        return self.execute(runs, d, "weights for " + model)

    def npy_case(self, rng, d):
        model = os.path.join(ROOT, "tests/lit/Inputs/affine.nyx")
        w = os.path.join(d, "w.safetensors")
        with open(w, "wb") as f:
            f.write(safetensors_bytes([("w", "f32", [3, 2]), ("b", "f32", [2])]))
        x = os.path.join(d, "x.npy")
        with open(x, "wb") as f:
            f.write(mutate_npy(rng, "f32", [4, 3]))
        runs = [[self.tool("nyx-run"), "--weights", w, model, x,
                 "-o", os.path.join(d, "y.npy")]]
        return self.execute(runs, d, "npy input")

    def execute(self, runs, d, what):
        found = []
        for argv in runs:
            rc, err, timed_out = run_tool(argv, self.args.timeout, d)
            self.accepted += rc == 0
            problem = classify(rc, err, timed_out)
            out = argv[argv.index("-o") + 1] if "-o" in argv else None
            if not problem and rc != 0 and out and out != "/dev/null" and \
                    os.path.exists(out):
                problem = "partial output: %s left behind" % os.path.basename(out)
            if problem:
                found.append((signature(problem, err), argv, err, d, what))
                break
        return found

    def report(self, sig, argv, err, d, what):
        if sig in self.problems:
            return
        keep = None
        if self.args.keep:
            keep = os.path.join(self.args.keep, "problem%d" % len(self.problems))
            shutil.rmtree(keep, ignore_errors=True)
            shutil.copytree(d, keep)
        self.problems[sig] = True
        print("PROBLEM: %s" % sig)
        print("  input: %s (%s)" % (what, keep or d))
        print("  command: %s" % " ".join(argv))
        print("  stderr:\n    " + "\n    ".join(brief(err)))
        sys.stdout.flush()

    def run(self):
        self.load_seeds()
        jobs = max(1, self.args.jobs)
        with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
            futures = [pool.submit(self.case, i) for i in range(self.args.cases)]
            for i, fut in enumerate(futures):
                for problem in fut.result():
                    self.report(*problem)
                if not self.args.quiet and (i + 1) % 100 == 0:
                    print("%d cases, %d problems" % (i + 1, len(self.problems)))
                    sys.stdout.flush()
        if not self.args.keep_work:
            shutil.rmtree(self.work, ignore_errors=True)
        print("%d cases run (%d tool runs accepted the input), %d distinct "
              "problems" % (self.args.cases, self.accepted, len(self.problems)))
        return 1 if self.problems else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin-dir", required=True,
                    help="directory holding nyx-opt, nyxc and nyx-run")
    ap.add_argument("--cases", type=int,
                    default=int(os.environ.get("NYX_FUZZ_CASES", "300")))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--keep", help="copy each problem's inputs here")
    ap.add_argument("--keep-work", action="store_true",
                    help="leave the temporary case directories in place")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()
    return Fuzzer(args).run()


if __name__ == "__main__":
    sys.exit(main())
