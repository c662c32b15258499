#include "stdlib/training.h"

#include <cmath>
#include <map>

#include "ir/builder.h"
#include "ir/diagnostic.h"
#include "ir/op_registry.h"
#include "ir/rewrite.h"
#include "ir/strings.h"
#include "ir/verifier.h"
#include "passes/autodiff.h"
#include "passes/pass.h"

namespace nyx::stdlib {
namespace {

using ir::Value;
using ParamValues = std::map<std::string, Value *, std::less<>>;

std::unique_ptr<ir::Module> emptyModule(const ir::Module &model) {
  auto m = std::make_unique<ir::Module>();
  m->name = model.name;
  m->filename = model.filename;
  return m;
}

// Adds one input per module param (in declaration order) to `fn`.
ParamValues addParamInputs(const ir::Module &model, ir::Function &fn) {
  ParamValues values;
  for (const ir::Param &p : model.params)
    values[p.name] = fn.addParam(p.name, p.type);
  return values;
}

// fan_in and fan_out of a weight, from the op that reads it: a matmul's
// right operand [.., in, out] (or [.., out, in] transposed), a conv2d
// weight [out, in/groups, kH, kW]; otherwise [out, in...] like torch.
std::pair<double, double> fans(const ir::Module &module,
                               const ir::Function &model, const ir::Param &p) {
  const ir::Shape &s = p.type.shape;
  double all = static_cast<double>(ir::numElements(s));
  for (const auto &op : model.ops) {
    if (op->name() != "param" || *op->getSymbol("name") != p.name)
      continue;
    const Value *v = op->result();
    for (const auto &user : model.ops) {
      for (int i = 0; i < user->numOperands(); ++i) {
        if (user->operand(i) != v)
          continue;
        if (user->name() == "matmul") {
          bool transposed =
              *user->getBool(i == 1 ? "transpose_b" : "transpose_a", false);
          bool inFirst = (i == 1) != transposed;
          double in = static_cast<double>(s[s.size() - (inFirst ? 2 : 1)]);
          double out = static_cast<double>(s[s.size() - (inFirst ? 1 : 2)]);
          return {in, out};
        }
        if (user->name() == "conv2d" && i == 1)
          return {all / s[0], all / s[1]};
      }
    }
  }
  return {all / s[0], all / s[s.size() - 1]};
}

// Whether the param is the scale of a normalization (initialized to one).
bool isScale(const ir::Function &model, const std::string &name) {
  for (const auto &op : model.ops) {
    if (op->name() != "param" || *op->getSymbol("name") != name)
      continue;
    for (const auto &user : model.ops) {
      std::string_view n = user->name();
      bool norm = n == "layer_norm" || n == "rms_norm" || n == "batch_norm";
      if (!norm)
        continue;
      for (int i = 1; i < user->numOperands(); ++i)
        if (user->operand(i) == op->result() &&
            (i == 1 || (n == "batch_norm" && i == 4)))
          return true;
    }
  }
  return false;
}

TrainingParam initOf(const ir::Module &module, const ir::Function &model,
                     const ir::Param &p, ParamInitScheme scheme) {
  TrainingParam t{p.name, p.type, 0, 0};
  if (p.type.rank() < 2) {
    if (isScale(model, p.name))
      t.lo = t.hi = 1;
    return t;
  }
  auto [in, out] = fans(module, model, p);
  double bound = scheme == ParamInitScheme::Kaiming
                     ? std::sqrt(6.0 / in)
                     : std::sqrt(6.0 / (in + out));
  t.lo = -bound;
  t.hi = bound;
  return t;
}

absl::Status checkModel(const ir::Module &module, const ir::Function &model) {
  if (module.params.empty())
    return ir::errorAt(module.filename, model.loc,
                       strCat("@", model.name,
                              " reads no params; a training step updates the "
                              "model's params"));
  for (const ir::Param &p : module.params)
    if (p.type.dtype != ir::DType::F32)
      return ir::errorAt(module.filename, p.loc,
                         strCat("param @", p.name, " is ", p.type.str(),
                                "; training updates f32 params"));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ir::Module>>
buildInference(const ir::Module &module, const ir::Function &model) {
  auto m = emptyModule(module);
  ir::Function *fn = m->addFunction("main");
  fn->loc = model.loc;
  fn->returnLoc = model.returnLoc;
  ParamValues params = addParamInputs(module, *fn);
  std::map<const Value *, Value *> mapped;
  for (const Value *p : model.params)
    mapped[p] = fn->addParam(p->name, p->type);
  auto returns = ir::cloneBody(module, model, *fn, std::move(mapped), params);
  if (!returns.ok())
    return returns.status();
  fn->returns = *returns;
  fn->resultTypes = model.resultTypes;
  return m;
}

// Leaves every parameter, state tensor and the step counter as they were
// when a gradient holds an inf or NaN: x * 0 is NaN exactly for those, so
// the sum of all gradients times 0 is NaN exactly when one is not finite.
void keepOnOverflow(ir::Builder &b, const std::vector<Value *> &grads,
                    const std::vector<Value *> &params,
                    const std::vector<std::vector<Value *>> &state, Value *step,
                    optim::OptimizerStep &next) {
  Value *zero = b.scalar(0.0, ir::DType::F32);
  Value *poison = nullptr;
  for (Value *g : grads) {
    Value *s = b.op("reduce_sum", {b.op("mul", {g, zero})});
    poison = poison ? b.op("add", {poison, s}) : s;
  }
  Value *overflow = b.op("isnan", {poison});
  auto keep = [&](Value *old, Value *updated) {
    return b.op("select", {overflow, old, updated});
  };
  for (size_t i = 0; i < params.size(); ++i) {
    next.params[i] = keep(params[i], next.params[i]);
    for (size_t k = 0; k < state[i].size(); ++k)
      next.state[i][k] = keep(state[i][k], next.state[i][k]);
  }
  if (step)
    next.step = keep(step, next.step);
}

} // namespace

absl::StatusOr<Training> buildTraining(const ir::Module &module,
                                       const ir::Function &model,
                                       const TrainingOptions &options) {
  if (auto s = checkModel(module, model); !s.ok())
    return s;
  if (!options.loss)
    return absl::InvalidArgumentError("no loss given for the training step");
  const losses::LossEntry &loss = *options.loss;
  const optim::OptimizerConfig &opt = options.optimizer;
  int nOutputs = loss.modelOutputs;
  if (static_cast<int>(model.returns.size()) < nOutputs)
    return ir::errorAt(module.filename, model.returnLoc,
                       strCat("@", model.name, " returns ",
                              model.returns.size(),
                              model.returns.size() == 1 ? " value" : " values",
                              "; the ", loss.name, " loss takes ", nOutputs));
  std::vector<ir::TensorType> outputTypes;
  for (int i = 0; i < nOutputs; ++i)
    outputTypes.push_back(model.returns[i]->type);
  auto labelTypes = loss.labelTypes(outputTypes);
  if (!labelTypes.ok())
    return ir::errorAt(
        module.filename, model.returnLoc,
        strCat("the ", loss.name, " loss: ", labelTypes.status().message()));

  Training t;
  auto inference = buildInference(module, model);
  if (!inference.ok())
    return inference.status();
  t.inference = std::move(*inference);
  for (const ir::Param &p : module.params)
    t.params.push_back(initOf(module, model, p, options.init));

  // @train_step's inputs.
  t.trainStep = emptyModule(module);
  ir::Function &fn = *t.trainStep->addFunction("train_step");
  fn.loc = model.loc;
  fn.returnLoc = model.returnLoc;
  ParamValues params = addParamInputs(module, fn);
  std::vector<std::string> stateNames = optim::stateNames(opt);
  std::vector<std::vector<Value *>> state;
  for (const ir::Param &p : module.params) {
    state.emplace_back();
    for (const std::string &s : stateNames)
      state.back().push_back(fn.addParam(strCat(p.name, ".", s), p.type));
  }
  Value *step = optim::usesStep(opt) ? fn.addParam("step", {ir::DType::F32, {}})
                                     : nullptr;
  std::vector<Value *> inputs;
  for (const Value *p : model.params)
    inputs.push_back(fn.addParam(p->name, p->type));
  std::vector<Value *> labels;
  for (size_t i = 0; i < labelTypes->size(); ++i)
    labels.push_back(
        fn.addParam(labelTypes->size() == 1 ? "labels" : strCat("labels", i),
                    (*labelTypes)[i]));
  Value *lr = fn.addParam("lr", {ir::DType::F32, {}});

  // Forward (in the compute type: params and float inputs cast to it) and
  // loss (in f32).
  ir::Builder b(*t.trainStep, fn);
  b.setLoc(model.returnLoc);
  ir::DType compute = options.computeType;
  bool mixed = compute != ir::DType::F32;
  auto toCompute = [&](Value *v) {
    return mixed && ir::isFloat(v->type.dtype)
               ? b.op("cast", {v}, {{"to", compute}})
               : v;
  };
  ParamValues forwardParams;
  for (const auto &[name, v] : params)
    forwardParams[name] = toCompute(v);
  std::map<const Value *, Value *> mapped;
  for (size_t i = 0; i < inputs.size(); ++i)
    mapped[model.params[i]] = toCompute(inputs[i]);
  if (!b.ok())
    return b.status();
  size_t forwardBegin = fn.ops.size();
  auto outputs =
      ir::cloneBody(module, model, fn, std::move(mapped), forwardParams);
  if (!outputs.ok())
    return outputs.status();
  if (mixed) {
    ir::retypeFloats(fn, forwardBegin, [&](ir::DType) { return compute; });
    if (auto s = passes::runShapeInfer(*t.trainStep, {}); !s.ok())
      return s;
  }
  std::vector<Value *> used;
  for (int i = 0; i < nOutputs; ++i)
    used.push_back(mixed
                       ? b.op("cast", {(*outputs)[i]}, {{"to", ir::DType::F32}})
                       : (*outputs)[i]);
  Value *lossValue = loss.build(b, used, labels, options.lossOptions);
  if (!b.ok())
    return ir::errorAt(
        module.filename, model.returnLoc,
        strCat("building the ", loss.name, " loss: ", b.status().message()));
  b.rename(lossValue, "loss");

  // Gradients with respect to every param (the inputs standing for them).
  std::vector<std::vector<Value *>> wrt;
  std::vector<Value *> paramInputs;
  for (const ir::Param &p : module.params) {
    paramInputs.push_back(params.at(p.name));
    wrt.push_back({params.at(p.name)});
  }
  Value *seed = b.scalar(options.lossScale, lossValue->type.dtype);
  if (!b.ok())
    return b.status();
  auto grads = passes::reverseMode(*t.trainStep, fn, fn.ops.size(), lossValue,
                                   seed, wrt);
  if (!grads.ok())
    return grads.status();
  if (options.lossScale != 1) {
    Value *unscale = b.scalar(1.0 / options.lossScale, ir::DType::F32);
    for (Value *&g : *grads)
      g = b.op("mul", {g, unscale});
  }

  // The update, and the values written back over the inputs.
  optim::OptimizerStep next =
      optim::applyOptimizer(b, opt, paramInputs, *grads, state, step, lr);
  if (!b.ok())
    return b.status();
  if (mixed || options.lossScale != 1)
    keepOnOverflow(b, *grads, paramInputs, state, step, next);
  if (!b.ok())
    return b.status();
  std::vector<Value *> returns;
  for (size_t i = 0; i < paramInputs.size(); ++i) {
    returns.push_back(next.params[i]);
    t.outputAliases.push_back(paramInputs[i]->index);
  }
  for (size_t i = 0; i < state.size(); ++i)
    for (size_t k = 0; k < state[i].size(); ++k) {
      returns.push_back(next.state[i][k]);
      t.outputAliases.push_back(state[i][k]->index);
    }
  if (step) {
    returns.push_back(next.step);
    t.outputAliases.push_back(step->index);
  }
  returns.push_back(lossValue);
  t.outputAliases.push_back(-1);
  for (size_t i = 0; i + 1 < returns.size(); ++i)
    b.rename(returns[i], strCat(fn.params[t.outputAliases[i]]->name, ".next"));
  fn.returns = returns;
  for (const Value *v : returns)
    fn.resultTypes.push_back(v->type);
  if (auto s = ir::verifyModule(*t.trainStep); !s.ok())
    return s;
  return t;
}

} // namespace nyx::stdlib
