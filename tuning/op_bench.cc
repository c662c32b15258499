#include "tuning/op_bench.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>

#include "codegen/codegen.h"
#include "codegen/kernel/gemm_schedule.h"
#include "ir/buffer_rules.h"
#include "ir/op_registry.h"
#include "ir/strings.h"
#include "ir/tensor.h"
#include "ir/verifier.h"

namespace nyx::tuning {
namespace {

constexpr const char *kModelName = "nyx_tune";

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

} // namespace

AlignedBytes::AlignedBytes(size_t size) : size_(size) {
  if (size > 0) {
    data_ =
        static_cast<uint8_t *>(std::aligned_alloc(64, (size + 63) / 64 * 64));
    std::memset(data_, 0, size);
  }
}
AlignedBytes::AlignedBytes(AlignedBytes &&o) noexcept
    : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {
}
AlignedBytes &AlignedBytes::operator=(AlignedBytes &&o) noexcept {
  std::swap(data_, o.data_);
  std::swap(size_, o.size_);
  return *this;
}
AlignedBytes::~AlignedBytes() { std::free(data_); }

absl::StatusOr<std::unique_ptr<OpBench>> OpBench::create(const ir::Op &op,
                                                         std::string target,
                                                         int optLevel,
                                                         ObjectJit &jit) {
  if (op.results.size() != 1 || op.result()->type.dtype != ir::DType::F32)
    return absl::InvalidArgumentError(
        strCat("'", op.name(), "' has no single f32 result to time"));
  auto bench = std::unique_ptr<OpBench>(new OpBench(jit));
  bench->target_ = std::move(target);
  bench->optLevel_ = optLevel;
  bench->module_ = std::make_unique<ir::Module>();
  bench->module_->name = kModelName;
  ir::Function *fn = bench->module_->addFunction("main");
  std::vector<ir::Value *> params;
  for (int i = 0; i < op.numOperands(); ++i)
    params.push_back(fn->addParam(strCat("x", i), op.operand(i)->type));
  ir::Attributes attrs = op.attrs;
  attrs.erase(std::string(ir::kArenaOffsetsAttr));
  attrs.erase(std::string(ir::kScheduleAttr));
  bench->op_ =
      fn->appendOp(op.def, params, std::move(attrs), {op.result()->type});
  fn->resultTypes = {op.result()->type};
  fn->returns = {bench->op_->result()};
  if (absl::Status s = ir::verifyModule(*bench->module_); !s.ok())
    return s;

  // Values of the size activations and weights have, fixed so that every
  // candidate computes the same products.
  std::mt19937_64 rng(0x6e7978);
  std::uniform_real_distribution<double> dist(-1, 1);
  for (const ir::Value *p : params) {
    ir::Tensor t(p->type);
    for (int64_t i = 0; i < t.numElements(); ++i)
      t.setDouble(i, dist(rng));
    AlignedBytes bytes(t.byteSize());
    if (t.byteSize() > 0)
      std::memcpy(bytes.data(), t.bytes(), t.byteSize());
    bench->inputs_.push_back(std::move(bytes));
  }
  bench->outputElements_ = op.result()->type.numElements();
  return bench;
}

absl::StatusOr<std::unique_ptr<JitModel>>
OpBench::compile(const std::string &schedule) {
  op_->attrs[std::string(ir::kScheduleAttr)] = schedule;
  codegen::Options options;
  options.modelName = kModelName;
  options.target = target_;
  options.optLevel = optLevel_;
  auto compiled =
      codegen::compileModel(*module_, *module_->functions[0], {}, options);
  if (!compiled.ok())
    return compiled.status();
  auto object = (*compiled)->object();
  if (!object.ok())
    return object.status();
  return jit_.load(*object, kModelName);
}

absl::StatusOr<BenchResult> OpBench::time(const JitModel &model, int samples,
                                          double minSampleSeconds) {
  AlignedBytes output(outputElements_ * sizeof(float));
  AlignedBytes arena(model.arenaBytes());
  std::vector<void *> buffers;
  for (const AlignedBytes &in : inputs_)
    buffers.push_back(in.data());
  buffers.push_back(output.data());
  // Empty tensors have no storage; the model still wants valid pointers.
  static uint64_t placeholder[8];
  for (void *&b : buffers)
    if (!b)
      b = placeholder;
  auto runOnce = [&]() -> absl::Status {
    int status = model.runPacked()(buffers.data(), arena.data());
    if (status != 0)
      return absl::InternalError(strCat("the kernel returned status ", status));
    return absl::OkStatus();
  };

  Clock::time_point start = Clock::now();
  if (absl::Status s = runOnce(); !s.ok())
    return s;
  const double first = std::max(secondsSince(start), 1e-9);
  const int64_t repeats = std::clamp<int64_t>(
      static_cast<int64_t>(std::ceil(minSampleSeconds / first)), 1, 1 << 20);
  std::vector<double> perRun;
  for (int s = 0; s < std::max(samples, 1); ++s) {
    start = Clock::now();
    for (int64_t r = 0; r < repeats; ++r)
      if (absl::Status st = runOnce(); !st.ok())
        return st;
    perRun.push_back(secondsSince(start) / static_cast<double>(repeats));
  }
  std::nth_element(perRun.begin(), perRun.begin() + perRun.size() / 2,
                   perRun.end());
  BenchResult result;
  result.seconds = perRun[perRun.size() / 2];
  const float *values = reinterpret_cast<const float *>(output.data());
  result.output.assign(values, values + outputElements_);
  return result;
}

bool closeOutputs(const std::vector<float> &got, const std::vector<float> &want,
                  double rtol, size_t *where) {
  if (got.size() != want.size()) {
    if (where)
      *where = std::min(got.size(), want.size());
    return false;
  }
  double scale = 0;
  for (float w : want)
    if (std::isfinite(w))
      scale += std::fabs(w);
  scale /= std::max<size_t>(want.size(), 1);
  for (size_t i = 0; i < got.size(); ++i) {
    const double g = got[i], w = want[i];
    bool ok = std::isnan(w) ? std::isnan(g)
              : std::isinf(w)
                  ? g == w
                  : std::fabs(g - w) <= rtol * (std::fabs(w) + scale);
    if (!ok) {
      if (where)
        *where = i;
      return false;
    }
  }
  return true;
}

} // namespace nyx::tuning
