// A pass is one function `absl::Status runX(ir::Module&, const Options&)`
// in passes/x.cc, registered by name in passes/registry.cc.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ir/module.h"
#include "ir/op_registry.h"

namespace nyx::passes {

// Named counters passes report (`nyxc --stats`), like LLVM's -stats:
// "fuse.kernels-before" and so on, printed in name order.
class Statistics {
public:
  void set(std::string name, int64_t value) {
    values_[std::move(name)] = value;
  }
  void add(std::string name, int64_t delta) {
    values_[std::move(name)] += delta;
  }
  const std::map<std::string, int64_t> &values() const { return values_; }

private:
  std::map<std::string, int64_t> values_;
};

struct Int8QuantizeSettings;

// What the autotune pass asks of the code generator, which passes/ does not
// link: which ops are tiled by a `schedule` attribute, whether one written
// in the source is valid, and the schedules for the others (from a tuning
// database, by measuring, or the heuristic default). tuning/autotuner.h
// implements it; the compiler hands one to the pipeline.
class ScheduleTuner {
public:
  enum class Source { Database, Measured, Default };
  struct Choice {
    std::string schedule; // the attribute's value
    Source source = Source::Default;
  };

  virtual ~ScheduleTuner() = default;
  // True for an op the code generator tiles by a schedule (a GEMM-shaped
  // matmul or conv2d).
  virtual bool tiles(const ir::Op &op) const = 0;
  // Checks the `schedule` attribute written on such an op; the message
  // says what is wrong with it.
  virtual absl::Status check(const ir::Op &op) const = 0;
  // One choice per op of `ops` (each tiled, none with a schedule), in order.
  virtual absl::StatusOr<std::vector<Choice>>
  choose(const std::vector<const ir::Op *> &ops) = 0;
};

// Settings a pass may consult.
struct Options {
  std::string entry; // the function compiled as the model ("" = default)
  // The values of the module's params when they are known at compile time
  // (weights embedded in the object); null when they are bound at run time.
  const ir::WeightMap *weights = nullptr;
  Statistics *stats = nullptr; // where passes count things; may be null
  // Picks the schedules of GEMM-shaped ops (the autotune pass); null when
  // the passes run without a code generator, and autotune then leaves the
  // ops as they are.
  ScheduleTuner *tuner = nullptr;
  // The activation ranges of static int8 quantization (the quantize-int8
  // pass), which records in it the ranges it used; null when none were
  // given, and the pass then reports that it needs them.
  Int8QuantizeSettings *quantize = nullptr;
  // This pass's options from the pipeline string, `const-fold{max-bytes=64}`.
  std::map<std::string, std::string, std::less<>> args;

  void count(std::string_view name, int64_t delta) const {
    if (stats)
      stats->add(std::string(name), delta);
  }
  // The integer option `name` (or `dflt`).
  absl::StatusOr<int64_t> intArg(std::string_view name, int64_t dflt) const;
  // The value `op` defines when it is known at compile time: a `constant`'s
  // tensor, or an embedded param's weights; null otherwise (or when the
  // value's type does not match the op's result, an error left to the
  // interpreter or the runtime to report).
  const ir::Tensor *knownValue(const ir::Op &op) const;
};

// Rewrites every op of `m`'s ordinary functions (a kernel's body keeps the
// form the fuse pass gave it) that `qualifies` accepts and whose operand
// `operand` is known at compile time (Options::knownValue): `rewrite` gets
// the function, the op's position and the operand's value, and returns the
// position of the first op after the ones it left in the op's place.
// Returns the number of ops rewritten.
using RewriteFn = std::function<absl::StatusOr<size_t>(
    ir::Function &, size_t pos, const ir::Tensor &value)>;
absl::StatusOr<int64_t>
rewriteOpsWithKnownOperand(ir::Module &m, const Options &o, int operand,
                           const std::function<bool(const ir::Op &)> &qualifies,
                           const RewriteFn &rewrite);

// The function Options::entry names, or the module's default entry.
absl::StatusOr<ir::Function *> entryFunction(ir::Module &m, const Options &o);

using PassFn = absl::Status (*)(ir::Module &, const Options &);

// A pass option; its value is an integer (checked when the pipeline is
// parsed, read with Options::intArg).
struct PassOption {
  std::string_view name;
  std::string_view summary;
};

struct PassInfo {
  std::string_view name;
  std::string_view summary; // one line, for --help and --list-passes
  PassFn run;
  std::vector<PassOption> options = {};
};

const PassInfo *lookupPass(std::string_view name);
const std::vector<PassInfo> &allPasses();

absl::Status runVerify(ir::Module &m, const Options &o);
absl::Status runShapeInfer(ir::Module &m, const Options &o);
absl::Status runInline(ir::Module &m, const Options &o);
absl::Status runCanonicalize(ir::Module &m, const Options &o);
absl::Status runConstFold(ir::Module &m, const Options &o);
absl::Status runCse(ir::Module &m, const Options &o);
absl::Status runDce(ir::Module &m, const Options &o);
absl::Status runFoldBatchNorm(ir::Module &m, const Options &o);
absl::Status runWinograd(ir::Module &m, const Options &o);
absl::Status runQuantizeDynamic(ir::Module &m, const Options &o);
absl::Status runQuantizeInt8(ir::Module &m, const Options &o);
absl::Status runFilterLayout(ir::Module &m, const Options &o);
absl::Status runFuse(ir::Module &m, const Options &o);
absl::Status runAutotune(ir::Module &m, const Options &o);
absl::Status runMemoryPlan(ir::Module &m, const Options &o);
absl::Status runGrad(ir::Module &m, const Options &o);
absl::Status runJacobian(ir::Module &m, const Options &o);
absl::Status runHessian(ir::Module &m, const Options &o);
absl::Status runHvp(ir::Module &m, const Options &o);
absl::Status runRemat(ir::Module &m, const Options &o);
absl::Status runRematAll(ir::Module &m, const Options &o);

} // namespace nyx::passes
