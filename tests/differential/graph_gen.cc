#include "tests/differential/graph_gen.h"

#include <cmath>

#include "ir/strings.h"
#include "tests/differential/graph_builder.h"

namespace nyx::difftest {

// Returns the last value computed and some other unused ones; the values
// left unused are dead code for dce.
void GraphBuilder::chooseOutputs() {
  std::vector<int> computed, sinks;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const Node &n = nodes_[i];
    if (n.constant || !n.value->definingOp)
      continue;
    computed.push_back(static_cast<int>(i));
    if (n.uses == 0)
      sinks.push_back(static_cast<int>(i));
  }
  std::vector<ir::Value *> outputs;
  if (!computed.empty())
    outputs.push_back(nodes_[computed.back()].value);
  rng_.shuffle(sinks);
  for (int s : sinks)
    if (outputs.size() < 3 && nodes_[s].value != outputs[0] &&
        rng_.chance(0.35))
      outputs.push_back(nodes_[s].value);
  // Outputs the entry point must still handle after optimization: an input,
  // a constant, the same value twice.
  if (rng_.chance(0.04))
    outputs.push_back(main_->params[rng_.range(0, main_->params.size() - 1)]);
  if (rng_.chance(0.04))
    if (auto c = pickAny(
            [](const Node &n) { return n.constant && n.value->definingOp; }))
      outputs.push_back(nodes_[*c].value);
  if (rng_.chance(0.04) && !outputs.empty())
    outputs.push_back(outputs[0]);
  if (outputs.empty())
    outputs.push_back(main_->params[0]);
  for (ir::Value *v : outputs) {
    main_->returns.push_back(v);
    main_->resultTypes.push_back(v->type);
  }
}

// A dtype and a base shape the inputs broadcast against, then families of
// ops drawn by weight until the op budget is spent.
GeneratedGraph GraphBuilder::build(uint64_t seed) {
  module_ = std::make_unique<ir::Module>();
  module_->name = strCat("graph", seed);
  module_->functions.push_back(std::make_unique<ir::Function>("main"));
  main_ = fn_ = module_->functions.back().get();

  static const std::vector<DType> kMainTypes = {
      DType::F32, DType::F16, DType::BF16, DType::F64, DType::I32, DType::I64};
  mainType_ = kMainTypes[rng_.weighted({62, 8, 7, 7, 8, 8})];
  int64_t rank = 1 + static_cast<int64_t>(rng_.weighted({20, 35, 30, 15}));
  do {
    baseShape_.clear();
    for (int64_t i = 0; i < rank; ++i)
      baseShape_.push_back(
          rng_.pick<int64_t>({1, 2, 3, 4, 5, 6, 7, 8, 12, 16}));
  } while (ir::numElements(baseShape_) > 512);

  // Some inputs now, the others where an op wants a fresh operand.
  inputLimit_ =
      static_cast<int>(rng_.range(options_.minInputs, options_.maxInputs));
  input({mainType_, baseShape_});
  int upFront = rng_.chance(0.6)
                    ? inputLimit_ - 1
                    : static_cast<int>(rng_.range(0, inputLimit_ - 1));
  for (int i = 0; i < upFront; ++i) {
    DType t = rng_.chance(0.85)
                  ? mainType_
                  : rng_.pick<DType>({DType::F32, DType::I32, DType::Bool});
    Shape s = rng_.chance(0.4) ? baseShape_ : partnerShape(baseShape_);
    input({t, s});
  }

  using Family = bool (GraphBuilder::*)();
  struct Weighted {
    Family family;
    double weight;
  };
  const std::vector<Weighted> families = {
      {&GraphBuilder::unary, 12},        {&GraphBuilder::binary, 16},
      {&GraphBuilder::compareSelect, 5}, {&GraphBuilder::cast, 5},
      {&GraphBuilder::reduce, 7},        {&GraphBuilder::argmax, 2},
      {&GraphBuilder::normalization, 5}, {&GraphBuilder::matmul, 6},
      {&GraphBuilder::dataMovement, 9},  {&GraphBuilder::concat, 3},
      {&GraphBuilder::pad, 2},           {&GraphBuilder::gather, 2},
      {&GraphBuilder::conv, 2},          {&GraphBuilder::pool, 2},
      {&GraphBuilder::batchNorm, 1},     {&GraphBuilder::identity, 8},
      {&GraphBuilder::duplicate, 4},     {&GraphBuilder::constantSubgraph, 4},
      {&GraphBuilder::callHelper, 2},    {&GraphBuilder::chain, 5},
  };
  std::vector<double> weights;
  for (const Weighted &w : families)
    weights.push_back(w.weight);
  int target = static_cast<int>(rng_.range(options_.minOps, options_.maxOps));
  for (int attempt = 0; computeOps_ < target && attempt < 40 * target;
       ++attempt)
    (this->*families[rng_.weighted(weights)].family)();
  // A graph too constrained to reach the minimum still computes something.
  while (computeOps_ < options_.minOps) {
    auto x = pick(isNumericNode);
    if (!x || !unaryOp("abs", *x))
      break;
  }
  chooseOutputs();

  GeneratedGraph g;
  g.specialValues = rng_.chance(0.1);
  g.module = std::move(module_);
  g.weights = std::move(weights_);
  return g;
}

GeneratedGraph generateGraph(uint64_t seed, const GraphGenOptions &options) {
  return GraphBuilder(seed, options).build(seed);
}

std::vector<ir::Tensor> randomInputs(const ir::Function &fn, uint64_t seed,
                                     bool specialValues) {
  Random rng(seed);
  const double specials[] = {NAN, INFINITY, -INFINITY, -0.0};
  std::vector<ir::Tensor> inputs;
  for (const ir::Value *p : fn.params) {
    ir::Tensor t(p->type);
    for (int64_t i = 0; i < t.numElements(); ++i) {
      if (ir::isFloat(t.dtype()))
        t.setDouble(i, specialValues && rng.chance(1.0 / 16)
                           ? specials[rng.range(0, 3)]
                           : rng.real(kFloatInputs.lo, kFloatInputs.hi));
      else if (t.dtype() == DType::Bool)
        t.setInt(i, rng.range(0, 1));
      else
        t.setInt(i, rng.range(static_cast<int64_t>(kIntInputs.lo),
                              static_cast<int64_t>(kIntInputs.hi)));
    }
    inputs.push_back(std::move(t));
  }
  return inputs;
}

} // namespace nyx::difftest
