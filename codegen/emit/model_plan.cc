#include "codegen/emit/model_plan.h"

#include <algorithm>

#include "codegen/emit/arena_layout.h"
#include "codegen/emit/c_names.h"
#include "codegen/kernel/lowering.h"
#include "ir/diagnostic.h"
#include "ir/strings.h"

namespace nyx::codegen {
namespace {

std::vector<TensorInfo> describe(const std::vector<ir::Value *> &values,
                                 std::string_view paramPrefix,
                                 std::vector<std::string> &usedParamNames) {
  std::vector<std::string> irNames;
  for (const ir::Value *v : values)
    irNames.push_back(v->name);
  std::vector<std::string> macros = macroNames(irNames);
  std::vector<std::string> params =
      parameterNames(irNames, paramPrefix, usedParamNames);
  std::vector<TensorInfo> out;
  for (size_t i = 0; i < values.size(); ++i)
    out.push_back({irNames[i], macros[i], params[i], values[i]->type});
  return out;
}

class Planner {
public:
  Planner(const ir::Module &module, const ir::Function &entry,
          const ir::WeightMap &weights, const Options &options)
      : module_(module), entry_(entry), weights_(weights) {
    plan_.name = options.modelName;
    plan_.externalWeights = options.externalWeights;
  }

  absl::StatusOr<ModelPlan> run() {
    if (!isCIdentifier(plan_.name))
      return absl::InvalidArgumentError(
          strCat("model name '", plan_.name,
                 "' is not a C identifier; expected letters, digits and '_', "
                 "not starting with a digit and not a C keyword"));
    std::vector<std::string> usedParamNames;
    plan_.inputs = describe(entry_.params, "in", usedParamNames);
    plan_.outputs = describe(entry_.returns, "out", usedParamNames);
    for (size_t i = 0; i < entry_.params.size(); ++i)
      plan_.locations[entry_.params[i]] = {Location::Kind::Input,
                                           static_cast<int64_t>(i), 0};
    for (size_t i = 0; i < entry_.ops.size(); ++i)
      if (auto s = planOp(*entry_.ops[i], i); !s.ok())
        return s;
    placeOutputs();
    layOutArena();
    layOutWeights();
    return std::move(plan_);
  }

private:
  absl::Status errorAt(const ir::Op &op, std::string_view message) const {
    return ir::errorAt(module_.filename, op.loc, message);
  }

  absl::Status planOp(const ir::Op &op, size_t position) {
    std::string_view name = op.name();
    if (name == "call") {
      auto callee = op.getSymbol("callee");
      return errorAt(op, strCat("'call' to @", callee.ok() ? *callee : "?",
                                " found in the entry function; expected "
                                "calls to be inlined before code generation"));
    }
    if (name == "param")
      return planParam(op);
    if (name == "constant") {
      auto value = op.getTensor("value");
      if (!value.ok())
        return errorAt(op, std::string(value.status().message()));
      plan_.locations[op.result()] = {
          Location::Kind::Constant,
          static_cast<int64_t>(plan_.constants.size()), 0};
      plan_.constants.push_back(*value);
      return absl::OkStatus();
    }
    const kernel::LowerFn *lower = kernel::lookupLowering(name);
    if (!lower)
      return errorAt(op, strCat("no CPU lowering for op '", name, "'"));
    auto k = (*lower)(op, strCat(name, "_", position));
    if (!k.ok())
      return errorAt(op, std::string(k.status().message()));
    size_t expected = op.operands.size() + op.results.size();
    if (k->buffers.size() != expected)
      return errorAt(op,
                     strCat("the lowering of '", name, "' made a kernel of ",
                            k->buffers.size(), " buffers; expected ", expected,
                            " (operands then results)"));
    KernelCall call{std::move(*k), {}};
    for (const ir::Value *v : op.operands)
      call.buffers.push_back(v);
    for (const ir::Value *v : op.results) {
      call.buffers.push_back(v);
      produced_.push_back(v);
    }
    plan_.calls.push_back(std::move(call));
    return absl::OkStatus();
  }

  absl::Status planParam(const ir::Op &op) {
    auto name = op.getSymbol("name");
    if (!name.ok())
      return errorAt(op, std::string(name.status().message()));
    auto it = weightIndex_.find(*name);
    if (it == weightIndex_.end()) {
      WeightSlot slot{*name, op.result()->type, 0, nullptr};
      if (!plan_.externalWeights) {
        auto w = weights_.find(*name);
        if (w == weights_.end())
          return errorAt(op, strCat("no weights given for param @", *name,
                                    "; expected a tensor of type ",
                                    slot.type.str()));
        if (w->second.type() != slot.type)
          return errorAt(op, strCat("weights for param @", *name, " are ",
                                    w->second.type().str(), "; expected ",
                                    slot.type.str()));
        slot.data = &w->second;
      }
      it = weightIndex_.emplace(*name, plan_.weights.size()).first;
      plan_.weights.push_back(std::move(slot));
    }
    plan_.locations[op.result()] = {Location::Kind::Weight,
                                    static_cast<int64_t>(it->second), 0};
    return absl::OkStatus();
  }

  // A value computed by a kernel is written straight into the first output
  // that returns it; every other output is copied at the end of the run.
  void placeOutputs() {
    for (size_t j = 0; j < entry_.returns.size(); ++j) {
      const ir::Value *v = entry_.returns[j];
      bool computed =
          std::find(produced_.begin(), produced_.end(), v) != produced_.end();
      auto loc = plan_.locations.find(v);
      if (computed && loc == plan_.locations.end())
        plan_.locations[v] = {Location::Kind::Output, static_cast<int64_t>(j),
                              0};
      else
        plan_.copies.push_back({static_cast<int>(j), v});
    }
  }

  void layOutArena() {
    std::vector<const ir::Value *> inArena;
    std::vector<uint64_t> sizes;
    for (const ir::Value *v : produced_)
      if (!plan_.locations.count(v)) {
        inArena.push_back(v);
        sizes.push_back(v->type.byteSize());
      }
    ArenaLayout layout = layoutArena(sizes);
    for (size_t i = 0; i < inArena.size(); ++i)
      plan_.locations[inArena[i]] = {Location::Kind::Arena, 0,
                                     layout.offsets[i]};
    plan_.arenaBytes = layout.totalBytes;
  }

  void layOutWeights() {
    std::vector<uint64_t> sizes;
    for (const WeightSlot &w : plan_.weights)
      sizes.push_back(w.type.byteSize());
    ArenaLayout layout = layoutArena(sizes);
    for (size_t i = 0; i < plan_.weights.size(); ++i)
      plan_.weights[i].offset = layout.offsets[i];
    plan_.weightsBytes = layout.totalBytes;
    for (auto &[value, loc] : plan_.locations)
      if (loc.kind == Location::Kind::Weight)
        loc.offset = plan_.weights[loc.index].offset;
  }

  const ir::Module &module_;
  const ir::Function &entry_;
  const ir::WeightMap &weights_;
  ModelPlan plan_;
  std::map<std::string, size_t, std::less<>> weightIndex_;
  std::vector<const ir::Value *> produced_; // results of kernels, in order
};

} // namespace

absl::StatusOr<ModelPlan> planModel(const ir::Module &module,
                                    const ir::Function &entry,
                                    const ir::WeightMap &weights,
                                    const Options &options) {
  return Planner(module, entry, weights, options).run();
}

} // namespace nyx::codegen
