// Static int8 quantization of every f32 matmul and conv2d (one group, oihw
// filter) of the entry function whose weights are known at compile time,
// with activation ranges measured by calibration or read from a profile:
//
//   %xq = quantize(%x, sx, zx)      : i8, sx and zx constants from %x's range
//   ...                               the rest as quantized_ops.h builds it
//
// Activations get one scale per tensor: asymmetric (the default), the range
// [lo, hi] (widened to hold 0) in 255 steps from -128, or symmetric
// (symmetric=1), max(|lo|, |hi|) in 127 steps either side of zero point 0.
// Weights get one symmetric scale per output channel.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "ir/diagnostic.h"
#include "ir/status_macros.h"
#include "ir/strings.h"
#include "passes/pass.h"
#include "passes/quantize_int8.h"
#include "passes/quantized_ops.h"

namespace nyx::passes {
namespace {

using ir::DType;

struct Quantization {
  float scale = 1;
  int zeroPoint = 0;
};

Quantization activationQuantization(const ActivationRange &r, bool symmetric) {
  const double lo = std::min(r.min, 0.0), hi = std::max(r.max, 0.0);
  Quantization q;
  if (symmetric) {
    const double magnitude = std::max(-lo, hi);
    q.scale = magnitude > 0 ? static_cast<float>(magnitude / 127) : 1.0f;
    return q;
  }
  if (hi > lo)
    q.scale = static_cast<float>((hi - lo) / 255);
  q.zeroPoint = static_cast<int>(
      std::clamp(std::nearbyint(-128 - lo / q.scale), -128.0, 127.0));
  return q;
}

bool isQuantizable(const ir::Op &op) {
  return isQuantizableMatmul(op) || isQuantizableConv(op);
}

// A matmul or conv2d the pass rewrites, and its weights' value.
struct Target {
  ir::Op *op;
  const ir::Tensor *weights;
};

absl::StatusOr<std::vector<Target>>
findTargets(const ir::Module &m, const ir::Function &fn, const Options &o) {
  const std::set<std::string, std::less<>> &exclude = o.quantize->exclude;
  std::set<std::string, std::less<>> unmatched = exclude;
  std::vector<Target> targets;
  for (const auto &op : fn.ops) {
    if (!isQuantizable(*op))
      continue;
    const std::string &name = op->result()->name;
    unmatched.erase(name);
    if (exclude.count(name))
      continue;
    const ir::Op *def = op->operand(1)->definingOp;
    const ir::Tensor *weights = def ? o.knownValue(*def) : nullptr;
    if (weights) {
      targets.push_back({op.get(), weights});
    } else if (def && def->name() == "param") {
      return ir::errorAt(
          m.filename, op->loc,
          strCat("'", op->name(), "' %", name, " reads weights %",
                 def->result()->name,
                 " that are bound at run time; int8 quantization needs them "
                 "known at compile time (embedded weights), or leave it in "
                 "f32 with --quantize-exclude=",
                 name));
    }
  }
  if (!unmatched.empty())
    return absl::InvalidArgumentError(
        strCat("--quantize-exclude names %", *unmatched.begin(),
               ", which is not an f32 matmul or conv2d of @", fn.name,
               "; expected the result name of one"));
  if (targets.empty())
    return absl::InvalidArgumentError(
        strCat("int8 quantization found no f32 matmul or conv2d with "
               "compile-time weights in @",
               fn.name,
               " to quantize; expected at least one (the model "
               "would stay f32)"));
  return targets;
}

// The given profile, checked against the activations it must cover.
absl::StatusOr<QuantProfile>
checkedProfile(const ir::Function &fn,
               const std::vector<const ir::Value *> &activations,
               const Int8QuantizeSettings &s) {
  const std::string &file = s.profilePath;
  std::set<std::string, std::less<>> names;
  for (const ir::Value *p : fn.params)
    names.insert(p->name);
  for (const auto &op : fn.ops)
    for (const ir::Value *r : op->results)
      names.insert(r->name);
  for (const auto &[name, range] : s.profile->ranges)
    if (!names.count(name))
      return absl::InvalidArgumentError(
          strCat(file, ": error: activation \"", name, "\" is not a value of @",
                 fn.name, "; expected the profile of this model"));
  QuantProfile used;
  used.observer = s.profile->observer;
  for (const ir::Value *v : activations) {
    auto it = s.profile->ranges.find(v->name);
    if (it == s.profile->ranges.end())
      return absl::InvalidArgumentError(
          strCat(file, ": error: no range for %", v->name,
                 ", the input of a quantized op; expected an entry \"", v->name,
                 "\" in \"activations\""));
    if (it->second.shape != v->type.shape)
      return absl::InvalidArgumentError(
          strCat(file, ": error: activation \"", v->name, "\" has shape [",
                 ir::shapeString(it->second.shape), "]; the model's %", v->name,
                 " is ", v->type.str()));
    used.ranges.emplace(v->name, it->second);
  }
  return used;
}

absl::Status rewrite(ir::Module &m, ir::Function &fn, const Target &t,
                     const Quantization &q) {
  size_t pos = 0;
  while (fn.ops[pos].get() != t.op)
    ++pos;
  ir::OpInserter at(m, fn, pos, t.op->loc, "quantize-int8");
  NYX_ASSIGN_OR_RETURN(ir::Value * sx, at.scalar(DType::F32, q.scale));
  NYX_ASSIGN_OR_RETURN(ir::Value * zx, at.scalar(DType::I8, q.zeroPoint));
  NYX_ASSIGN_OR_RETURN(ir::Value * xq,
                       at.emit("quantize", {t.op->operand(0), sx, zx}));
  return replaceWithQuantized(at, fn, *t.op, *t.weights, xq, sx, q.zeroPoint)
      .status();
}

} // namespace

absl::Status runQuantizeInt8(ir::Module &m, const Options &o) {
  NYX_ASSIGN_OR_RETURN(int64_t symmetric, o.intArg("symmetric", 0));
  Int8QuantizeSettings *s = o.quantize;
  if (!s || (!s->calibration && !s->profile))
    return absl::InvalidArgumentError(
        "int8 quantization needs activation ranges: calibration inputs "
        "(nyxc --calibrate=DATA) or a profile (nyxc --quant-profile=FILE)");
  NYX_ASSIGN_OR_RETURN(ir::Function * fn, entryFunction(m, o));
  NYX_ASSIGN_OR_RETURN(std::vector<Target> targets, findTargets(m, *fn, o));
  std::vector<const ir::Value *> activations;
  for (const Target &t : targets)
    if (std::find(activations.begin(), activations.end(), t.op->operand(0)) ==
        activations.end())
      activations.push_back(t.op->operand(0));

  if (s->calibration) {
    NYX_ASSIGN_OR_RETURN(s->used, calibrate(m, *fn, o.weights, activations,
                                            *s->calibration, !symmetric));
  } else {
    NYX_ASSIGN_OR_RETURN(s->used, checkedProfile(*fn, activations, *s));
  }
  for (const Target &t : targets)
    NYX_RETURN_IF_ERROR(rewrite(
        m, *fn, t,
        activationQuantization(s->used.ranges.at(t.op->operand(0)->name),
                               symmetric != 0)));
  o.count("quantize-int8.ops", static_cast<int64_t>(targets.size()));
  return absl::OkStatus();
}

} // namespace nyx::passes
