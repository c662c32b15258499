// The generator's working parts (graph_gen.h has the interface): what it
// knows about each value it created, and the builder that adds ops to a
// module. graph_builder.cc creates values and single ops with their bounds,
// op_families.cc and optimizer_patterns.cc the groups of ops a graph is
// drawn from, graph_gen.cc the whole graph.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ir/module.h"
#include "ir/op_registry.h"
#include "tests/differential/graph_gen.h"
#include "tests/differential/interval.h"

namespace nyx::difftest {

using ir::DType;
using ir::Shape;
using ir::TensorType;

// What randomInputs draws from.
inline constexpr Interval kFloatInputs = {-2, 2};
inline constexpr Interval kIntInputs = {-8, 8};

// The draws the generator makes. The distributions are the standard
// library's, so a seed names the same graph wherever the same library is
// used.
class Random {
public:
  explicit Random(uint64_t seed) : gen_(seed) {}
  // Uniform in [lo, hi].
  int64_t range(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(gen_);
  }
  double real(double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(gen_);
  }
  bool chance(double p) { return std::bernoulli_distribution(p)(gen_); }
  template <class T> T pick(const std::vector<T> &items) {
    return items[range(0, static_cast<int64_t>(items.size()) - 1)];
  }
  size_t weighted(const std::vector<double> &weights) {
    return std::discrete_distribution<size_t>(weights.begin(),
                                              weights.end())(gen_);
  }
  template <class T> void shuffle(std::vector<T> &items) {
    std::shuffle(items.begin(), items.end(), gen_);
  }

private:
  std::mt19937_64 gen_;
};

// How an op's result follows from its operands' bits.
enum class Numerics {
  Moves,  // moves, selects or converts elements (one rounding at most):
          // every correct implementation gets the same bits
  Rounds, // arithmetic: implementations may round differently
};

// What the generator knows about one value.
struct Node {
  ir::Value *value = nullptr;
  Interval range;        // holds every element (on finite inputs)
  bool exact = true;     // computed bit for bit by every implementation
  bool spread = false;   // elements are independent random numbers, so a
                         // layer_norm row has a healthy variance
  bool constant = false; // depends on no input (constants and params)
  int uses = 0;

  const TensorType &type() const { return value->type; }
  DType dtype() const { return value->type.dtype; }
  const Shape &shape() const { return value->type.shape; }
  int64_t rank() const { return value->type.rank(); }
};

using NodeFilter = std::function<bool(const Node &)>;

inline bool isFloatNode(const Node &n) { return ir::isFloat(n.dtype()); }
inline bool isNumericNode(const Node &n) { return n.dtype() != DType::Bool; }
inline bool anyNode(const Node &) { return true; }

// The range of an integer dtype when `r` leaves it (the result wrapped).
Interval wrapped(Interval r, DType t);
// The smallest interval holding every element of `t`.
Interval rangeOf(const ir::Tensor &t);
// True when `a` and `b` broadcast to at most kMaxValueElements elements.
bool broadcastsWithin(const Shape &a, const Shape &b);
// The prime factors of n, to split an element count into a shape.
std::vector<int64_t> primeFactors(int64_t n);
// The element count of s[from:].
int64_t product(const Shape &s, size_t from = 0);

// Builds one module: values are indices into `nodes_`, the values of the
// function being built (@main, or a helper while its body is built).
class GraphBuilder {
public:
  GraphBuilder(uint64_t seed, const GraphGenOptions &options)
      : rng_(seed), options_(options) {}

  GeneratedGraph build(uint64_t seed);

private:
  // --- creating values -----------------------------------------------------
  std::optional<int> append(std::string_view opName, std::vector<int> operands,
                            ir::Attributes attrs, Interval range,
                            Numerics numerics, bool spread = false);
  int addNode(Node n);
  int constant(ir::Tensor t);
  int splat(TensorType t, double v);
  int dense(TensorType t, Interval values);
  int input(TensorType t);
  int weight(TensorType t, Interval values);
  int leaf(TensorType t, Interval values);
  int operandOf(TensorType t, Interval values);
  double niceValue(Interval values, DType t);
  ir::Tensor randomTensor(TensorType t, Interval values);

  // --- choosing operands ---------------------------------------------------
  std::optional<int> pick(const NodeFilter &ok);
  std::optional<int> pickAny(const NodeFilter &ok);
  std::optional<int> choose(const std::vector<int> &candidates);
  int partner(int a, DType dtype, Interval values, const NodeFilter &fits);
  Shape partnerShape(const Shape &s);
  Shape randomShape(int64_t elements, int64_t rank);
  std::optional<int> positiveOf(int x);
  std::optional<int> rank4Operand();

  // --- ops -----------------------------------------------------------------
  std::optional<int> unaryOp(std::string op, int x);
  std::optional<int> binaryOp(const std::string &op, int a);
  std::optional<int> binaryOn(const std::string &op, int a, int b);
  std::optional<int> batchNormOn(int x, int64_t axis);
  std::optional<int> reshapeTo(int x, Shape shape);

  // --- families: each adds a few ops or none -------------------------------
  bool unary();
  bool binary();
  bool compareSelect();
  bool cast();
  bool reduce();
  bool argmax();
  bool normalization();
  bool matmul();
  bool dataMovement();
  bool concat();
  bool pad();
  bool gather();
  bool conv();
  bool pool();
  bool batchNorm();
  bool identity();
  bool duplicate();
  bool constantSubgraph();
  bool callHelper();
  bool chain();
  bool elementwise();

  void chooseOutputs();

  Random rng_;
  GraphGenOptions options_;
  std::unique_ptr<ir::Module> module_;
  ir::WeightMap weights_;
  ir::Function *main_ = nullptr;
  ir::Function *fn_ = nullptr; // the function being built
  std::vector<Node> nodes_;    // the values of fn_
  std::unordered_map<const ir::Value *, int> nodeOf_;
  DType mainType_ = DType::F32;
  Shape baseShape_;
  int inputs_ = 0, computeOps_ = 0, helpers_ = 0;
  int inputLimit_ = 1; // inputs this graph may have
  // While set, operands come from constants only (a subgraph const-fold
  // can evaluate).
  bool constMode_ = false;
  // While set, the next op reads this value when it can (chains that fuse).
  std::optional<int> chainFrom_;
};

} // namespace nyx::difftest
