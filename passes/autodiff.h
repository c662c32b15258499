// Reverse-mode automatic differentiation of graph IR. The derivatives are
// ordinary IR appended to a function, so every later pass (CSE, fusion,
// memory planning) optimizes them, and they can be differentiated again.
//
// Gradient rules live in the op registry (ir/grad/); this file walks a
// function backwards, calls them and sums the gradients of values used
// more than once.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ir/builder.h"
#include "ir/module.h"

namespace nyx::passes {

// Appends to `fn` the ops computing the gradient of `output` (seeded with
// `seed`, a value of output's type: the vector of a vector-Jacobian
// product) with respect to each group of `wrt`. The ops of `fn` before
// `end` are differentiated; the gradient of a group is the sum over its
// values (a module param read by several `param` ops). A group the output
// does not depend on gets zeros. Errors name the op and its location: an op
// with no gradient rule on the path, or a rule that failed.
absl::StatusOr<std::vector<ir::Value *>>
reverseMode(ir::Module &m, ir::Function &fn, size_t end, ir::Value *output,
            ir::Value *seed, const std::vector<std::vector<ir::Value *>> &wrt);

// What to differentiate with respect to: inputs of the function by
// position and module params by name. `all()` means every float input and
// every param the function reads.
struct Wrt {
  std::vector<int> inputs;
  std::vector<std::string> params;
  bool all = true;
};

// Adds @`name`: the inputs of `f`; returns f's result, then its gradient
// with respect to each chosen input and param, in that order. `f` must
// return one float scalar (any shape of one element).
absl::StatusOr<ir::Function *> addGradFunction(ir::Module &m,
                                               const ir::Function &f,
                                               const Wrt &wrt,
                                               const std::string &name);

// Adds @`name`: the inputs of `f`; returns the Jacobian of f's first result
// with respect to its input `input`, shaped result.shape ++ input.shape.
// Built from one reverse pass per result element, for small functions.
absl::StatusOr<ir::Function *> addJacobianFunction(ir::Module &m,
                                                   const ir::Function &f,
                                                   int input,
                                                   const std::string &name);

// Adds @`name`: the Hessian of f's scalar result with respect to input
// `input`, shaped input.shape ++ input.shape (the Jacobian of the gradient).
absl::StatusOr<ir::Function *> addHessianFunction(ir::Module &m,
                                                  const ir::Function &f,
                                                  int input,
                                                  const std::string &name);

// Adds @`name`: f's inputs and then `v` (shaped like input `input`);
// returns the Hessian-vector product H v, by differentiating <grad f, v>
// (no Hessian is formed).
absl::StatusOr<ir::Function *> addHvpFunction(ir::Module &m,
                                              const ir::Function &f, int input,
                                              const std::string &name);

// The largest number of result elements addJacobianFunction accepts (each
// one is a reverse pass).
inline constexpr int64_t kMaxJacobianRows = 4096;

} // namespace nyx::passes
