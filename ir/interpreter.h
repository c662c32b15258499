// The reference interpreter: runs a function of a module op by op with each
// op's registry kernel. It is the semantics compiled code is tested against.
#pragma once

#include <functional>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "ir/module.h"
#include "ir/op_registry.h"
#include "ir/tensor.h"

namespace nyx::ir {

class Interpreter {
public:
  // Called after each op with its results (instrumentation, debugging).
  // `depth` is 0 for the function passed to run() and grows inside calls.
  using Observer = std::function<void(
      const Op &op, std::span<const Tensor> results, int depth)>;

  // `weights` may be null when the module's functions use no `param`; both
  // must outlive the interpreter.
  Interpreter(const Module &module, const WeightMap *weights);

  void setObserver(Observer observer) { observer_ = std::move(observer); }

  // Runs `fn` (a function of the module) on `args`, which must match its
  // parameters in number and type, and returns the values it returns.
  // Errors from kernels carry the op's location.
  absl::StatusOr<std::vector<Tensor>> run(const Function &fn,
                                          std::vector<Tensor> args);

private:
  absl::StatusOr<std::vector<Tensor>>
  runAt(const Function &fn, std::vector<Tensor> args, int depth);

  const Module &module_;
  const WeightMap *weights_;
  Observer observer_;
};

} // namespace nyx::ir
