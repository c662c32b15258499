#include "stdlib/optimizers.h"

#include "ir/strings.h"

namespace nyx::stdlib::optim {

namespace {

using ir::DType;
using ir::TensorType;

struct NamedOptimizer {
  std::string_view name;
  OptimizerConfig defaults;
};

OptimizerConfig defaultsOf(Optimizer kind) {
  OptimizerConfig c;
  c.kind = kind;
  switch (kind) {
  case Optimizer::AdamW:
    c.weightDecay = 1e-2;
    break;
  case Optimizer::Adagrad:
    c.eps = 1e-10;
    break;
  case Optimizer::Lion:
    c.beta2 = 0.99;
    break;
  case Optimizer::Lamb:
    c.eps = 1e-6;
    break;
  default:
    break;
  }
  return c;
}

const NamedOptimizer kOptimizers[] = {
    {"sgd", defaultsOf(Optimizer::Sgd)},
    {"adam", defaultsOf(Optimizer::Adam)},
    {"adamw", defaultsOf(Optimizer::AdamW)},
    {"rmsprop", defaultsOf(Optimizer::RMSprop)},
    {"adagrad", defaultsOf(Optimizer::Adagrad)},
    {"lion", defaultsOf(Optimizer::Lion)},
    {"lamb", defaultsOf(Optimizer::Lamb)},
};

// ---- argument checks ----

bool inUnitInterval(double v, bool closedAbove) {
  return v >= 0 && (closedAbove ? v <= 1 : v < 1);
}

// Records the first configuration value out of its range.
bool checkConfig(ir::Builder &b, const OptimizerConfig &c) {
  std::string_view name = optimizerName(c.kind);
  auto bad = [&](std::string_view what, double v, std::string_view expected) {
    b.fail(strCat(name, ": ", what, " is ", v, "; expected ", expected));
    return false;
  };
  if (!(c.momentum >= 0))
    return bad("momentum", c.momentum, "a number >= 0");
  if (c.nesterov && c.kind == Optimizer::Sgd && c.momentum == 0)
    return bad("momentum", c.momentum,
               "a positive momentum with Nesterov momentum");
  if (!inUnitInterval(c.beta1, c.kind == Optimizer::Lion))
    return bad("beta1", c.beta1, "a number in [0, 1)");
  if (!inUnitInterval(c.beta2, c.kind == Optimizer::Lion))
    return bad("beta2", c.beta2, "a number in [0, 1)");
  if (!inUnitInterval(c.alpha, true))
    return bad("alpha", c.alpha, "a number in [0, 1]");
  if (!(c.eps >= 0))
    return bad("eps", c.eps, "a number >= 0");
  if (!(c.weightDecay >= 0))
    return bad("weight decay", c.weightDecay, "a number >= 0");
  if (!(c.clipNorm >= 0))
    return bad("clip norm", c.clipNorm, "a number >= 0 (0 turns it off)");
  return true;
}

bool checkScalar(ir::Builder &b, std::string_view optimizer,
                 std::string_view what, const Value *v, bool mustBeF32) {
  if (!v) {
    b.fail(strCat(optimizer, ": the ", what, " is null; expected a value"));
    return false;
  }
  bool ok = v->type.rank() == 0 && (mustBeF32 ? v->type.dtype == DType::F32
                                              : ir::isFloat(v->type.dtype));
  if (!ok)
    b.fail(strCat(optimizer, ": the ", what, " is ", v->type.str(),
                  "; expected ", mustBeF32 ? "f32[]" : "a float scalar"));
  return ok;
}

bool checkArguments(ir::Builder &b, const OptimizerConfig &c,
                    std::span<Value *const> params,
                    std::span<Value *const> grads,
                    std::span<const std::vector<Value *>> state, Value *step,
                    Value *lr) {
  if (!b.ok() || !checkConfig(b, c))
    return false;
  std::string_view name = optimizerName(c.kind);
  if (grads.size() != params.size() || state.size() != params.size()) {
    b.fail(strCat(name, ": ", params.size(), " params, ", grads.size(),
                  " gradients and ", state.size(),
                  " state lists; expected as many of each"));
    return false;
  }
  const std::vector<std::string> names = stateNames(c);
  for (size_t i = 0; i < params.size(); ++i) {
    const Value *p = params[i];
    if (!p || !ir::isFloat(p->type.dtype)) {
      b.fail(strCat(name, ": param ", i, " is ",
                    p ? p->type.str() : std::string("null"),
                    "; expected a float tensor"));
      return false;
    }
    if (!grads[i] || grads[i]->type != p->type) {
      b.fail(strCat(name, ": the gradient of param ", i, " is ",
                    grads[i] ? grads[i]->type.str() : std::string("null"),
                    "; expected ", p->type.str(), ", the param's type"));
      return false;
    }
    if (state[i].size() != names.size()) {
      b.fail(strCat(name, ": param ", i, " has ", state[i].size(),
                    " state tensors; expected ", names.size(), " (",
                    strJoin(names, ", "), ")"));
      return false;
    }
    for (size_t k = 0; k < names.size(); ++k)
      if (!state[i][k] || state[i][k]->type != p->type) {
        b.fail(
            strCat(name, ": state '", names[k], "' of param ", i, " is ",
                   state[i][k] ? state[i][k]->type.str() : std::string("null"),
                   "; expected ", p->type.str(), ", the param's type"));
        return false;
      }
  }
  if (usesStep(c) && !checkScalar(b, name, "step counter", step, true))
    return false;
  return checkScalar(b, name, "learning rate", lr, false);
}

// ---- the update rules, one parameter at a time ----

// Builds ops for one parameter; every scalar is of the parameter's dtype.
class ParamUpdate {
public:
  ParamUpdate(ir::Builder &b, const OptimizerConfig &c, Value *param, Value *lr,
              Value *step)
      : b_(b), c_(c), dtype_(param->type.dtype), lr_(castTo(lr)),
        step_(step ? castTo(step) : nullptr) {}

  // Returns the new param; `state` is updated in place.
  Value *apply(Value *w, Value *g, std::vector<Value *> &state) {
    switch (c_.kind) {
    case Optimizer::Sgd:
      return sgd(w, g, state);
    case Optimizer::Adam:
    case Optimizer::AdamW:
      return adam(w, g, state);
    case Optimizer::RMSprop:
      return rmsprop(w, g, state);
    case Optimizer::Adagrad:
      return adagrad(w, g, state);
    case Optimizer::Lion:
      return lion(w, g, state);
    case Optimizer::Lamb:
      return lamb(w, g, state);
    }
    return nullptr;
  }

private:
  Value *k(double v) { return b_.scalar(v, dtype_); }
  Value *add(Value *x, Value *y) { return b_.op("add", {x, y}); }
  Value *sub(Value *x, Value *y) { return b_.op("sub", {x, y}); }
  Value *mul(Value *x, Value *y) { return b_.op("mul", {x, y}); }
  Value *div(Value *x, Value *y) { return b_.op("div", {x, y}); }
  Value *sqrt(Value *x) { return b_.op("sqrt", {x}); }

  Value *castTo(Value *v) {
    return v->type.dtype == dtype_ ? v : b_.op("cast", {v}, {{"to", dtype_}});
  }
  // beta * avg + (1 - beta) * x: torch's mul_(beta).add_(x, alpha=1-beta).
  Value *decayed(Value *avg, double beta, Value *x) {
    return add(mul(avg, k(beta)), mul(x, k(1 - beta)));
  }
  // L2 weight decay: g + wd * w.
  Value *withL2(Value *w, Value *g) {
    return c_.weightDecay == 0 ? g : add(g, mul(w, k(c_.weightDecay)));
  }
  // Decoupled weight decay: w * (1 - lr * wd).
  Value *decoupledDecay(Value *w) {
    if (c_.weightDecay == 0)
      return w;
    return mul(w, sub(k(1), mul(lr_, k(c_.weightDecay))));
  }
  // 1 - beta^step, with step already incremented.
  Value *biasCorrection(double beta) {
    return sub(k(1), b_.op("pow", {k(beta), step_}));
  }
  Value *l2Norm(Value *x) { return sqrt(b_.op("reduce_sum", {mul(x, x)})); }

  Value *sgd(Value *w, Value *g, std::vector<Value *> &state) {
    Value *d = withL2(w, g);
    if (c_.momentum != 0) {
      // The buffer starts at zero, so its first value is d, as in torch.
      Value *buf = add(mul(state[0], k(c_.momentum)), d);
      state[0] = buf;
      d = c_.nesterov ? add(d, mul(buf, k(c_.momentum))) : buf;
    }
    return sub(w, mul(d, lr_));
  }

  Value *adam(Value *w, Value *g, std::vector<Value *> &state) {
    bool decoupled = c_.kind == Optimizer::AdamW;
    if (decoupled)
      w = decoupledDecay(w);
    else
      g = withL2(w, g);
    Value *m = decayed(state[0], c_.beta1, g);
    Value *v = decayed(state[1], c_.beta2, mul(g, g));
    state = {m, v};
    Value *stepSize = div(lr_, biasCorrection(c_.beta1));
    Value *denom = add(div(sqrt(v), sqrt(biasCorrection(c_.beta2))), k(c_.eps));
    return sub(w, mul(div(m, denom), stepSize));
  }

  Value *rmsprop(Value *w, Value *g, std::vector<Value *> &state) {
    g = withL2(w, g);
    size_t next = 0;
    Value *squareAvg = decayed(state[next], c_.alpha, mul(g, g));
    state[next++] = squareAvg;
    Value *momentum = nullptr;
    if (c_.momentum > 0)
      momentum = state[next++];
    Value *avg = squareAvg;
    if (c_.centered) {
      Value *gradAvg = decayed(state[next], c_.alpha, g);
      state[next] = gradAvg;
      avg = sub(avg, mul(gradAvg, gradAvg));
    }
    Value *denom = add(sqrt(avg), k(c_.eps));
    if (!momentum)
      return sub(w, mul(div(g, denom), lr_));
    Value *buf = add(mul(momentum, k(c_.momentum)), div(g, denom));
    state[1] = buf;
    return sub(w, mul(buf, lr_));
  }

  Value *adagrad(Value *w, Value *g, std::vector<Value *> &state) {
    g = withL2(w, g);
    Value *sum = add(state[0], mul(g, g));
    state[0] = sum;
    return sub(w, mul(div(g, add(sqrt(sum), k(c_.eps))), lr_));
  }

  // lion-pytorch: decay, step along sign(interpolated momentum), then
  // update the momentum.
  Value *lion(Value *w, Value *g, std::vector<Value *> &state) {
    w = decoupledDecay(w);
    Value *direction = b_.op("sign", {decayed(state[0], c_.beta1, g)});
    state[0] = decayed(state[0], c_.beta2, g);
    return sub(w, mul(direction, lr_));
  }

  // LAMB (You et al., 2020): the Adam direction plus weight decay, scaled
  // by the trust ratio ||w|| / ||update|| (1 when either norm is 0).
  Value *lamb(Value *w, Value *g, std::vector<Value *> &state) {
    Value *m = decayed(state[0], c_.beta1, g);
    Value *v = decayed(state[1], c_.beta2, mul(g, g));
    state = {m, v};
    Value *mHat = div(m, biasCorrection(c_.beta1));
    Value *vHat = div(v, biasCorrection(c_.beta2));
    Value *update = div(mHat, add(sqrt(vHat), k(c_.eps)));
    if (c_.weightDecay != 0)
      update = add(update, mul(w, k(c_.weightDecay)));
    Value *wNorm = l2Norm(w);
    Value *uNorm = l2Norm(update);
    Value *zero = k(0);
    Value *bothPositive =
        b_.op("and", {b_.op("gt", {wNorm, zero}), b_.op("gt", {uNorm, zero})});
    // The division reads 1 where the ratio is not taken, so no 0/0 appears.
    Value *safeU = b_.op("select", {bothPositive, uNorm, k(1)});
    Value *trust = b_.op("select", {bothPositive, div(wNorm, safeU), k(1)});
    return sub(w, mul(update, mul(trust, lr_)));
  }

  ir::Builder &b_;
  const OptimizerConfig &c_;
  DType dtype_;
  Value *lr_;
  Value *step_;
};

} // namespace

absl::StatusOr<OptimizerConfig> optimizerByName(std::string_view name) {
  for (const NamedOptimizer &o : kOptimizers)
    if (o.name == name)
      return o.defaults;
  return absl::InvalidArgumentError(strCat("unknown optimizer '", name,
                                           "'; expected one of ",
                                           strJoin(optimizerNames(), ", ")));
}

std::string_view optimizerName(Optimizer kind) {
  for (const NamedOptimizer &o : kOptimizers)
    if (o.defaults.kind == kind)
      return o.name;
  return "unknown optimizer";
}

std::vector<std::string_view> optimizerNames() {
  std::vector<std::string_view> names;
  for (const NamedOptimizer &o : kOptimizers)
    names.push_back(o.name);
  return names;
}

std::vector<std::string> stateNames(const OptimizerConfig &c) {
  switch (c.kind) {
  case Optimizer::Sgd:
    if (c.momentum != 0)
      return {"momentum"};
    return {};
  case Optimizer::Adam:
  case Optimizer::AdamW:
  case Optimizer::Lamb:
    return {"m", "v"};
  case Optimizer::RMSprop: {
    std::vector<std::string> names = {"square_avg"};
    if (c.momentum > 0)
      names.push_back("momentum");
    if (c.centered)
      names.push_back("grad_avg");
    return names;
  }
  case Optimizer::Adagrad:
    return {"sum"};
  case Optimizer::Lion:
    return {"m"};
  }
  return {};
}

bool usesStep(const OptimizerConfig &c) {
  return c.kind == Optimizer::Adam || c.kind == Optimizer::AdamW ||
         c.kind == Optimizer::Lamb;
}

std::vector<Value *> clipByGlobalNorm(ir::Builder &b,
                                      std::span<Value *const> grads,
                                      double maxNorm) {
  if (!b.ok())
    return {};
  if (grads.empty())
    return {};
  // Squares are summed in f64 when any gradient is f64, else in f32 (so
  // f16 gradients do not overflow).
  DType normType = DType::F32;
  for (const Value *g : grads) {
    if (!g || !ir::isFloat(g->type.dtype)) {
      b.fail(strCat("gradient clipping: a gradient is ",
                    g ? g->type.str() : std::string("null"),
                    "; expected a float tensor"));
      return {};
    }
    if (g->type.dtype == DType::F64)
      normType = DType::F64;
  }
  auto cast = [&](Value *v, DType to) {
    return v->type.dtype == to ? v : b.op("cast", {v}, {{"to", to}});
  };
  Value *total = nullptr;
  for (Value *g : grads) {
    Value *wide = cast(g, normType);
    Value *sq = b.op("reduce_sum", {b.op("mul", {wide, wide})});
    total = total ? b.op("add", {total, sq}) : sq;
  }
  Value *norm = b.op("sqrt", {total});
  Value *coef = b.op("div", {b.scalar(maxNorm, normType),
                             b.op("add", {norm, b.scalar(1e-6, normType)})});
  coef = b.op("min", {coef, b.scalar(1, normType)});
  std::vector<Value *> clipped;
  for (Value *g : grads)
    clipped.push_back(b.op("mul", {g, cast(coef, g->type.dtype)}));
  if (!b.ok())
    return {};
  return clipped;
}

OptimizerStep applyOptimizer(ir::Builder &b, const OptimizerConfig &config,
                             std::span<Value *const> params,
                             std::span<Value *const> grads,
                             std::span<const std::vector<Value *>> state,
                             Value *step, Value *lr) {
  if (!checkArguments(b, config, params, grads, state, step, lr))
    return {};
  std::vector<Value *> g(grads.begin(), grads.end());
  if (config.clipNorm > 0)
    g = clipByGlobalNorm(b, g, config.clipNorm);

  OptimizerStep out;
  Value *newStep = nullptr;
  if (usesStep(config))
    newStep = b.op("add", {step, b.scalar(1, DType::F32)});
  for (size_t i = 0; i < params.size() && b.ok(); ++i) {
    ParamUpdate update(b, config, params[i], lr, newStep);
    std::vector<Value *> s = state[i];
    out.params.push_back(update.apply(params[i], g[i], s));
    out.state.push_back(std::move(s));
  }
  if (!b.ok())
    return {};
  out.step = newStep;
  return out;
}

} // namespace nyx::stdlib::optim
