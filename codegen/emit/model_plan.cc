#include "codegen/emit/model_plan.h"

#include <algorithm>
#include <set>

#include "codegen/cuda/target.h"
#include "codegen/emit/arena_layout.h"
#include "codegen/emit/c_names.h"
#include "codegen/kernel/index_math.h"
#include "codegen/kernel/lower_fusion.h"
#include "codegen/kernel/lowering.h"
#include "ir/buffer_rules.h"
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
      : module_(module), entry_(entry), weights_(weights),
        target_(options.target) {
    plan_.name = options.modelName;
    plan_.runName =
        options.runName.empty() ? options.modelName + "_run" : options.runName;
    plan_.externalWeights = options.externalWeights;
    aliases_ = options.outputAliases;
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
    if (auto s = aliasOutputs(); !s.ok())
      return s;
    if (auto s = layOutArena(); !s.ok())
      return s;
    deferAliasedOutputs();
    if (auto s = markSharedBuffers(); !s.ok())
      return s;
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
    auto k = lower(op, position);
    if (!k.ok())
      return errorAt(op, std::string(k.status().message()));
    size_t expected = op.operands.size() + op.results.size();
    if (k->numParams() != expected)
      return errorAt(op,
                     strCat("the lowering of '", name, "' made a kernel of ",
                            k->numParams(), " buffers; expected ", expected,
                            " (operands then results)"));
    KernelCall call{std::move(*k), {}, &op};
    for (const ir::Value *v : op.operands)
      call.buffers.push_back(v);
    for (const ir::Value *v : op.results) {
      call.buffers.push_back(v);
      produced_.push_back(v);
    }
    plan_.calls.push_back(std::move(call));
    return absl::OkStatus();
  }

  // The kernel of an op that computes: its lowering, or for a `fusion` the
  // lowering of its kernel function, named after that function.
  absl::StatusOr<kernel::Kernel> lower(const ir::Op &op, size_t position) {
    std::string_view name = op.name();
    if (name == "fusion") {
      auto callee = op.getSymbol("callee");
      if (!callee.ok())
        return callee.status();
      const ir::Function *body = module_.lookupFunction(*callee);
      if (!body || !body->isKernel)
        return absl::InvalidArgumentError(
            strCat("'fusion' callee @", *callee, " is not a kernel function"));
      return kernel::lowerFusion(*body, *callee);
    }
    if (name == "custom_cuda") {
      if (!cuda::isCudaTarget(target_))
        return absl::InvalidArgumentError(
            strCat("'custom_cuda' runs CUDA code; expected a cuda-* target "
                   "(cuda-sm80, cuda-sm90, cuda-sm90a), not '",
                   target_, "'"));
      // Only its buffers: the code comes from NVRTC (cuda/custom_kernel.h).
      return kernel::kernelSkeleton(op, strCat(name, "_", position));
    }
    const kernel::LowerFn *lower = kernel::lookupLowering(name);
    if (!lower)
      return absl::InvalidArgumentError(
          strCat("no CPU lowering for op '", name, "'"));
    return (*lower)(op, strCat(name, "_", position));
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
  // that returns it (ir::directOutputs, the rule the memory plan uses too);
  // every other output is copied at the end of the run.
  void placeOutputs() {
    auto direct = ir::directOutputs(entry_);
    for (size_t j = 0; j < entry_.returns.size(); ++j) {
      const ir::Value *v = entry_.returns[j];
      auto slot = direct.find(v);
      if (slot != direct.end() && slot->second == static_cast<int>(j))
        plan_.locations[v] = {Location::Kind::Output, static_cast<int64_t>(j),
                              0};
      else
        plan_.copies.push_back({static_cast<int>(j), v});
    }
  }

  // Outputs written over an input's buffer (outputAliases). The kernel
  // computing one writes it there directly when the input's old value is no
  // longer needed then: no later kernel reads the input, and that kernel
  // reads each input element only to compute the output element at the
  // same position (readsInPlace). Otherwise the output is deferred.
  absl::Status aliasOutputs() {
    if (aliases_.empty())
      return absl::OkStatus();
    if (aliases_.size() != entry_.returns.size())
      return absl::InternalError(strCat(aliases_.size(), " output aliases for ",
                                        entry_.returns.size(),
                                        " outputs; expected one per output"));
    for (size_t j = 0; j < aliases_.size(); ++j) {
      int d = aliases_[j];
      if (d < 0)
        continue;
      if (d >= static_cast<int>(entry_.params.size()) ||
          !(entry_.params[d]->type == entry_.returns[j]->type))
        return absl::InternalError(
            strCat("output ", j, " cannot be written over input ", d,
                   ": the types differ or the input does not exist"));
      const ir::Value *input = entry_.params[d];
      const ir::Value *value = entry_.returns[j];
      plan_.outputs[j].inputAlias = d;
      plan_.inputs[d].updated = true;
      // An output that returns the input itself needs no copy.
      std::erase_if(plan_.copies, [&](const OutputCopy &c) {
        return c.output == static_cast<int>(j) && c.source == input;
      });
      for (const OutputCopy &c : plan_.copies)
        if (c.source == input)
          return absl::InternalError(strCat("input %", input->name,
                                            " is updated in place but "
                                            "also returned as another output"));
      bool copied = std::any_of(
          plan_.copies.begin(), plan_.copies.end(),
          [&](const OutputCopy &c) { return c.output == static_cast<int>(j); });
      if (copied) // after every kernel: the old value is no longer read
        continue;
      int writer = -1;
      for (size_t k = 0; k < plan_.calls.size(); ++k)
        for (const ir::Value *v : plan_.calls[k].buffers)
          if (v == value && plan_.locations.count(v) &&
              plan_.locations.at(v).kind == Location::Kind::Output)
            writer = static_cast<int>(k);
      for (size_t k = 0; k < plan_.calls.size(); ++k) {
        const KernelCall &call = plan_.calls[k];
        if (std::count(call.buffers.begin(), call.buffers.end(), input) == 0)
          continue;
        int at = static_cast<int>(k);
        if (at > writer ||
            (at == writer && !readsInPlace(*value->definingOp, value, input))) {
          deferred_.push_back(static_cast<int>(j));
          break;
        }
      }
    }
    return absl::OkStatus();
  }

  // The outputs aliasOutputs could not write in place: each gets its own
  // place at the end of the arena and is copied over its input after the
  // last kernel.
  void deferAliasedOutputs() {
    for (int j : deferred_) {
      const ir::Value *value = entry_.returns[j];
      uint64_t offset = (plan_.arenaBytes + 63) / 64 * 64;
      plan_.locations[value] = {Location::Kind::Arena, 0, offset};
      plan_.arenaBytes = offset + value->type.byteSize();
      plan_.copies.push_back({j, value});
    }
  }

  // Whether `op` (whose result `value` is written over `input`) reads
  // each element of `input` only to compute the element of `value` at the
  // same position, before storing it:
  //  - everything computed from the input is computed elementwise at its
  //    shape (a fusion's GEMM may be there, as long as the input does not
  //    reach its operands: a GEMM accumulates in scratch and stores each
  //    element once, through the epilogue; a reduction may accumulate in
  //    its output, so none may be in the kernel);
  //  - no other result of the kernel depends on the input, since its
  //    stores may come after `value`'s and would then read the new value.
  bool readsInPlace(const ir::Op &op, const ir::Value *value,
                    const ir::Value *input) const {
    auto elementwise = [&](const ir::Op &o) {
      if (o.def->fusion != ir::FusionKind::Elementwise)
        return false;
      return std::all_of(o.results.begin(), o.results.end(), [&](auto *r) {
        return r->type.shape == input->type.shape;
      });
    };
    if (op.name() != "fusion")
      return op.results.size() == 1 && elementwise(op);
    auto callee = op.getSymbol("callee");
    const ir::Function *body =
        callee.ok() ? module_.lookupFunction(*callee) : nullptr;
    if (!body)
      return false;
    std::set<const ir::Value *> derived;
    for (size_t i = 0; i < op.operands.size(); ++i)
      if (op.operands[i] == input)
        derived.insert(body->params[i]);
    for (const auto &o : body->ops) {
      bool gemm = o->has(ir::kScheduleAttr);
      if (o->name() != "constant" && !gemm && !elementwise(*o))
        return false;
      bool touches = std::any_of(o->operands.begin(), o->operands.end(),
                                 [&](auto *v) { return derived.count(v); });
      if (!touches)
        continue;
      if (gemm)
        return false;
      derived.insert(o->results.begin(), o->results.end());
    }
    for (size_t r = 0; r < body->returns.size(); ++r)
      if (op.results[r] != value && derived.count(body->returns[r]))
        return false;
    return true;
  }

  // The computed values that are not written into an output, in op order.
  std::vector<const ir::Value *> arenaValues() const {
    std::vector<const ir::Value *> values;
    for (const ir::Value *v : produced_)
      if (!plan_.locations.count(v))
        values.push_back(v);
    return values;
  }

  absl::Status layOutArena() {
    std::vector<const ir::Value *> values = arenaValues();
    bool planned =
        std::any_of(entry_.ops.begin(), entry_.ops.end(), [](const auto &op) {
          return op->has(ir::kArenaOffsetsAttr);
        });
    if (!planned) {
      // No memory plan (-O0): one slot per value.
      std::vector<uint64_t> sizes;
      for (const ir::Value *v : values)
        sizes.push_back(v->type.byteSize());
      ArenaLayout layout = layoutArena(sizes);
      for (size_t i = 0; i < values.size(); ++i)
        plan_.locations[values[i]] = {Location::Kind::Arena, 0,
                                      layout.offsets[i]};
      plan_.arenaBytes = layout.totalBytes;
      return absl::OkStatus();
    }
    auto buffers = plannedBuffers(values);
    if (!buffers.ok())
      return buffers.status();
    auto total = checkPlannedArena(*buffers);
    if (!total.ok())
      return total.status();
    for (size_t i = 0; i < values.size(); ++i)
      plan_.locations[values[i]] = {Location::Kind::Arena, 0,
                                    (*buffers)[i].offset};
    plan_.arenaBytes = *total;
    return absl::OkStatus();
  }

  // The offset the memory plan recorded for `v` (-1: not in the arena).
  absl::StatusOr<int64_t> plannedOffset(const ir::Value &v) const {
    const ir::Op &op = *v.definingOp;
    const ir::Attribute *attr = op.find(ir::kArenaOffsetsAttr);
    if (!attr)
      return -1;
    const auto *offsets = std::get_if<std::vector<int64_t>>(attr);
    if (!offsets || offsets->size() != op.results.size())
      return errorAt(op,
                     strCat("'", op.name(), "' has an ", ir::kArenaOffsetsAttr,
                            " attribute that is not a list of ",
                            op.results.size(), " integers (one per result)"));
    return (*offsets)[v.index];
  }

  // The memory plan's offsets for `values` (in order), with their live
  // ranges and the operands each may be written over.
  absl::StatusOr<std::vector<PlannedBuffer>>
  plannedBuffers(const std::vector<const ir::Value *> &values) const {
    auto ranges = ir::liveRanges(entry_);
    std::map<const ir::Value *, size_t> index;
    std::vector<PlannedBuffer> buffers;
    for (const ir::Value *v : values) {
      auto offset = plannedOffset(*v);
      if (!offset.ok())
        return offset.status();
      if (*offset < 0)
        return errorAt(*v->definingOp,
                       strCat("the memory plan gives %", v->name,
                              " (computed by '", v->definingOp->name(),
                              "', not returned) no arena offset; "
                              "expected every intermediate value to have one"));
      const ir::LiveRange &live = ranges.at(v);
      PlannedBuffer b{v->name,
                      static_cast<uint64_t>(*offset),
                      v->type.byteSize(),
                      live.first,
                      live.last,
                      {}};
      for (const ir::Value *operand : v->definingOp->operands) {
        auto it = index.find(operand);
        if (it != index.end() && ranges.at(operand).last == live.first &&
            std::count(b.mayReuse.begin(), b.mayReuse.end(), it->second) == 0 &&
            ir::mayWriteOver(module_, *v->definingOp, v->index, operand))
          b.mayReuse.push_back(it->second);
      }
      index[v] = buffers.size();
      buffers.push_back(std::move(b));
    }
    // An offset for a value that is not in the arena means the plan and
    // this code disagree about where values live.
    for (const auto &op : entry_.ops)
      for (const ir::Value *r : op->results) {
        if (index.count(r) || !op->has(ir::kArenaOffsetsAttr))
          continue;
        auto offset = plannedOffset(*r);
        if (!offset.ok())
          return offset.status();
        if (*offset < 0)
          continue;
        auto loc = plan_.locations.find(r);
        bool output = loc != plan_.locations.end() &&
                      loc->second.kind == Location::Kind::Output;
        return absl::InternalError(strCat(
            "the memory plan gives %", r->name, " arena offset ", *offset,
            "; expected -1, since it is ",
            output ? "written into an output" : "not computed by a kernel"));
      }
    return buffers;
  }

  // A call whose result was planned over one of its operands (in place)
  // passes the same memory twice; its kernel then reaches both through the
  // operand's pointer. (Two values live at one op overlap only this way:
  // an in-place result starts where its operand does.)
  absl::Status markSharedBuffers() {
    for (KernelCall &call : plan_.calls)
      for (size_t j = 1; j < call.buffers.size(); ++j)
        for (size_t i = 0; i < j; ++i) {
          auto shared = sameMemory(call, i, j);
          if (!shared.ok())
            return shared.status();
          if (!*shared)
            continue;
          // Point at the first buffer of that memory, so every access to it
          // goes through one pointer.
          int first = call.kernel.buffers[i].sameMemoryAs;
          call.kernel.buffers[j].sameMemoryAs =
              first >= 0 ? first : static_cast<int>(i);
          break;
        }
    return absl::OkStatus();
  }

  // Whether buffers i < j of `call` are one memory: one value passed twice,
  // or a result planned over an operand.
  absl::StatusOr<bool> sameMemory(const KernelCall &call, size_t i,
                                  size_t j) const {
    if (call.buffers[i] == call.buffers[j])
      return true;
    const Location &a = plan_.locations.at(call.buffers[i]);
    const Location &b = plan_.locations.at(call.buffers[j]);
    if (sameArgument(a, b))
      return true;
    if (a.kind != Location::Kind::Arena || b.kind != Location::Kind::Arena)
      return false;
    uint64_t aEnd = a.offset + call.buffers[i]->type.byteSize();
    uint64_t bEnd = b.offset + call.buffers[j]->type.byteSize();
    if (a.offset >= bEnd || b.offset >= aEnd)
      return false;
    if (a.offset != b.offset || !call.kernel.buffers[j].isOutput ||
        call.kernel.buffers[i].isOutput)
      return absl::InternalError(strCat(
          "values %", call.buffers[i]->name, " and %", call.buffers[j]->name,
          " of one kernel overlap in the arena without being an "
          "in-place pair"));
    return true;
  }

  // An input and an output written over it.
  bool sameArgument(const Location &a, const Location &b) const {
    auto aliasOf = [&](const Location &l) -> int64_t {
      if (l.kind == Location::Kind::Input)
        return l.index;
      if (l.kind == Location::Kind::Output)
        return plan_.outputs[l.index].inputAlias;
      return -1;
    };
    int64_t x = aliasOf(a), y = aliasOf(b);
    return x >= 0 && x == y && a.kind != b.kind;
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
  std::string target_;
  ModelPlan plan_;
  std::map<std::string, size_t, std::less<>> weightIndex_;
  std::vector<const ir::Value *> produced_; // results of kernels, in order
  std::vector<int> aliases_;                // Options::outputAliases
  std::vector<int> deferred_; // aliased outputs copied after the kernels
};

} // namespace

size_t runArgumentCount(const ModelPlan &plan) {
  size_t n = plan.inputs.size();
  for (const TensorInfo &t : plan.outputs)
    n += t.inputAlias < 0;
  return n;
}

std::vector<int> outputArguments(const ModelPlan &plan) {
  std::vector<int> args;
  int next = static_cast<int>(plan.inputs.size());
  for (const TensorInfo &t : plan.outputs)
    args.push_back(t.inputAlias >= 0 ? t.inputAlias : next++);
  return args;
}

absl::StatusOr<ModelPlan> planModel(const ir::Module &module,
                                    const ir::Function &entry,
                                    const ir::WeightMap &weights,
                                    const Options &options) {
  return Planner(module, entry, weights, options).run();
}

} // namespace nyx::codegen
