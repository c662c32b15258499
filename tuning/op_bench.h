// One op compiled on its own with a chosen schedule and timed in this
// process: the autotuner's measurement. The op becomes a one-op model
// (its operands as inputs, its result as the output), goes through the
// same code generation as a whole model and runs through the JIT on fixed
// random inputs.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ir/module.h"
#include "tuning/object_jit.h"

namespace nyx::tuning {

// 64-byte aligned bytes, like the arena and the buffers a model is given.
class AlignedBytes {
public:
  explicit AlignedBytes(size_t size = 0);
  AlignedBytes(AlignedBytes &&o) noexcept;
  AlignedBytes &operator=(AlignedBytes &&o) noexcept;
  ~AlignedBytes();
  uint8_t *data() const { return data_; }
  size_t size() const { return size_; }

private:
  uint8_t *data_ = nullptr;
  size_t size_ = 0;
};

struct BenchResult {
  double seconds = 0;        // median time of one run
  std::vector<float> output; // the op's result
};

class OpBench {
public:
  // `op` must have one f32 result. `target` and `optLevel` are the code
  // generator's (codegen::Options).
  static absl::StatusOr<std::unique_ptr<OpBench>>
  create(const ir::Op &op, std::string target, int optLevel, ObjectJit &jit);

  // The op compiled with `schedule` (the attribute's text) and linked.
  absl::StatusOr<std::unique_ptr<JitModel>>
  compile(const std::string &schedule);

  // Runs `model` once to warm up, then takes `samples` timings of enough
  // back-to-back runs to last `minSampleSeconds` each; the median per run
  // is the result.
  absl::StatusOr<BenchResult> time(const JitModel &model, int samples,
                                   double minSampleSeconds);

private:
  OpBench(ObjectJit &jit) : jit_(jit) {}
  ObjectJit &jit_;
  std::string target_;
  int optLevel_ = 2;
  std::unique_ptr<ir::Module> module_; // @main: the op alone
  ir::Op *op_ = nullptr;               // the op in module_
  std::vector<AlignedBytes> inputs_;
  int64_t outputElements_ = 0;
};

// True when `got` equals `want` to `rtol` relative to the element's size
// plus the mean magnitude of `want` (so elements that cancel to near zero
// are held to the scale of the result); NaN only where `want` has NaN.
// On a mismatch, `where` is the first element that differs.
bool closeOutputs(const std::vector<float> &got, const std::vector<float> &want,
                  double rtol, size_t *where = nullptr);

} // namespace nyx::tuning
