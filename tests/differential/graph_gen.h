// A generator of random well-typed graph-IR modules, for differential
// testing of the optimizer: the same seed always gives the same module.
//
// Each module has a function @main with 1 to 4 inputs and 3 to 30 ops drawn
// from the op registry (elementwise math with NumPy broadcasting, compares,
// select, casts between dtypes, reductions, normalizations, matmul,
// data movement, convolution and pooling), plus the shapes an optimizer
// looks for: identities (x * 1, neg(neg x), transpose of a transpose),
// constant subgraphs, repeated subexpressions, dead ops, helper functions
// to inline, and chains that fuse (elementwise chains, reductions with
// producers and consumers, matmul + bias + activation, conv2d + batch_norm).
// Every op is checked with its shape rule as it is created, so the module
// verifies.
//
// Values stay where a float tolerance is meaningful: every op's result has
// a bound of at most kMaxMagnitude on the inputs randomInputs makes, log,
// sqrt and pow only see values bounded away from zero, divisors stay away
// from zero, and ops whose result jumps with a rounding difference
// (compares, float-to-int casts, argmax) only read values that every
// correct implementation computes bit for bit (inputs, constants and data
// movement of them).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "ir/module.h"
#include "ir/op_registry.h"
#include "ir/tensor.h"

namespace nyx::difftest {

// The largest element bound a generated float value may have.
inline constexpr double kMaxMagnitude = 100;
// The largest element count of a generated value.
inline constexpr int64_t kMaxValueElements = 1024;

struct GraphGenOptions {
  int minInputs = 1, maxInputs = 4;
  // Ops that compute (constants and params not counted).
  int minOps = 3, maxOps = 30;
};

struct GeneratedGraph {
  std::unique_ptr<ir::Module> module;
  ir::WeightMap weights; // a value for every `param` the module declares
  // The inputs should hold some NaN, infinity and -0.0 elements too.
  bool specialValues = false;
};

GeneratedGraph generateGraph(uint64_t seed,
                             const GraphGenOptions &options = {});

// Inputs for `fn` (one per parameter) from `seed`: floats uniform in
// [-2, 2], integers in [-8, 8], bools half true. With `specialValues`,
// about one float element in 16 is NaN, +inf, -inf or -0.0.
std::vector<ir::Tensor> randomInputs(const ir::Function &fn, uint64_t seed,
                                     bool specialValues);

} // namespace nyx::difftest
