// Constant folding: an op whose operands are all known at compile time is
// evaluated with its interpreter kernel (the reference semantics, so the
// folded value is exactly what the op would compute) and replaced by a
// `constant`. Known values are constants and, when the weights are embedded
// (Options::weights), params. `call` and `fusion` are not folded (their
// bodies are folded where they are defined), nor is a result larger than
// the `max-bytes` option. A kernel function only gets splat constants, the
// only constants its loop nest can hold as immediates.
#include <algorithm>
#include <memory>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "ir/diagnostic.h"
#include "ir/op_registry.h"
#include "ir/status_macros.h"
#include "ir/strings.h"
#include "passes/pass.h"
#include "passes/rewrite_rules.h"

namespace nyx::passes {
namespace {

constexpr int64_t kDefaultMaxBytes = int64_t(1) << 24;

// The values a function's ops are known to have at compile time.
class KnownValues {
public:
  explicit KnownValues(const Options &o) : options_(o) {}

  // Records what `op` defines if it is a constant or an embedded param.
  void learn(const ir::Op &op) {
    if (op.results.size() == 1)
      if (const ir::Tensor *t = options_.knownValue(op))
        values_[op.result()] = t;
  }
  void add(const ir::Value *v, const ir::Tensor *t) { values_[v] = t; }

  // The operands' values, or nothing if one is not known.
  std::optional<std::vector<const ir::Tensor *>>
  operandsOf(const ir::Op &op) const {
    std::vector<const ir::Tensor *> in;
    for (const ir::Value *v : op.operands) {
      auto it = values_.find(v);
      if (it == values_.end())
        return std::nullopt;
      in.push_back(it->second);
    }
    return in;
  }

private:
  const Options &options_;
  absl::flat_hash_map<const ir::Value *, const ir::Tensor *> values_;
};

bool foldable(const ir::Op &op, int64_t maxBytes) {
  // Opaque ops (constant, param, call, fusion) have nothing to evaluate
  // here; a zero-operand op has no operands to be constant.
  if (op.def->fusion == ir::FusionKind::Opaque || op.operands.empty() ||
      !op.def->interpret)
    return false;
  for (const ir::Value *r : op.results)
    if (static_cast<int64_t>(r->type.byteSize()) > maxBytes)
      return false;
  return true;
}

// Removes the ops in `candidates` whose results lost every use.
void eraseUnused(ir::Function &fn,
                 const absl::flat_hash_set<const ir::Op *> &candidates) {
  absl::flat_hash_set<const ir::Value *> used;
  for (const auto &op : fn.ops)
    used.insert(op->operands.begin(), op->operands.end());
  used.insert(fn.returns.begin(), fn.returns.end());
  std::erase_if(fn.ops, [&](const std::unique_ptr<ir::Op> &op) {
    if (!candidates.contains(op.get()))
      return false;
    for (const ir::Value *r : op->results)
      if (used.contains(r))
        return false;
    return true;
  });
}

absl::StatusOr<int64_t> foldFunction(ir::Module &m, ir::Function &fn,
                                     const Options &o, int64_t maxBytes) {
  const ir::InterpContext ctx{&m, o.weights, nullptr};
  KnownValues known(o);
  absl::flat_hash_map<const ir::Value *, ir::Value *> foldedTo;
  absl::flat_hash_set<const ir::Op *> feeders; // may lose their last use
  int64_t folded = 0;
  std::vector<std::unique_ptr<ir::Op>> body = std::move(fn.ops);
  fn.ops.clear();
  for (auto &op : body) {
    for (ir::Value *&v : op->operands)
      if (auto it = foldedTo.find(v); it != foldedTo.end())
        v = it->second;
    known.learn(*op);
    std::optional<std::vector<const ir::Tensor *>> in;
    if (foldable(*op, maxBytes))
      in = known.operandsOf(*op);
    if (!in) {
      fn.ops.push_back(std::move(op));
      continue;
    }
    // The kernel trusts what the shape rule checks; a module that never met
    // the verifier gets an error here instead.
    auto types = op->def->inferTypes(*op, m);
    std::vector<ir::Tensor> out;
    for (const ir::Value *r : op->results)
      out.emplace_back(r->type);
    if (!types.ok() || types->size() != out.size() ||
        !std::equal(types->begin(), types->end(), op->results.begin(),
                    [](const ir::TensorType &t, const ir::Value *r) {
                      return t == r->type;
                    }))
      return ir::errorAt(
          m.filename, op->loc,
          strCat("cannot fold '", op->name(), "': ",
                 types.ok() ? "its result types do not match its operands"
                            : types.status().message()));
    absl::Status s = op->def->interpret(*op, *in, out, ctx);
    if (!s.ok())
      return ir::errorAt(m.filename, op->loc,
                         strCat("cannot fold '", op->name(),
                                "' with constant operands: ", s.message()));
    if (fn.isKernel &&
        !std::all_of(out.begin(), out.end(),
                     [](const ir::Tensor &t) { return t.isSplat(); })) {
      fn.ops.push_back(std::move(op));
      continue;
    }
    for (size_t i = 0; i < out.size(); ++i) {
      auto value = std::make_shared<const ir::Tensor>(std::move(out[i]));
      ir::Op *c = fn.appendOp(ir::lookupOp("constant"), {}, {{"value", value}},
                              {value->type()}, op->loc);
      std::swap(c->result()->name, op->results[i]->name);
      known.add(c->result(), value.get());
      foldedTo[op->results[i]] = c->result();
    }
    for (const ir::Value *v : op->operands)
      if (v->definingOp)
        feeders.insert(v->definingOp);
    ++folded;
  }
  for (ir::Value *&v : fn.returns)
    if (auto it = foldedTo.find(v); it != foldedTo.end())
      v = it->second;
  eraseUnused(fn, feeders);
  return folded;
}

} // namespace

absl::Status runConstFold(ir::Module &m, const Options &o) {
  NYX_ASSIGN_OR_RETURN(int64_t maxBytes,
                       o.intArg("max-bytes", kDefaultMaxBytes));
  if (maxBytes < 0)
    return absl::InvalidArgumentError(
        strCat("pass option max-bytes=", maxBytes,
               " of const-fold is negative; expected a byte count >= 0"));
  int64_t folded = 0;
  for (auto &fn : m.functions) {
    NYX_ASSIGN_OR_RETURN(int64_t n, foldFunction(m, *fn, o, maxBytes));
    folded += n;
  }
  o.count("const-fold.folded", folded);
  return absl::OkStatus();
}

} // namespace nyx::passes
