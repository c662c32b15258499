// custom_cuda: a kernel the user writes in CUDA C++, compiled by NVRTC when
// the model is compiled for a GPU (docs/cuda.md). The IR knows its result
// type and launch shape, not what it computes, so the interpreter and the
// CPU targets cannot run it.
#include "ir/op_registry.h"
#include "ir/ops/op_helpers.h"
#include "ir/strings.h"

namespace nyx::ir {
namespace {

using namespace ops;

constexpr int64_t kMaxBlock = 1024;                  // threads per block
constexpr int64_t kMaxGrid = (int64_t{1} << 31) - 1; // blocks of a 1-D grid

absl::StatusOr<std::vector<TensorType>> inferCustomCuda(const Op &op,
                                                        const Module &) {
  NYX_RETURN_IF_ERROR(checkOpBasics(
      op, {"source", "kernel", "grid", "block", "shape", "dtype"}));
  NYX_ASSIGN_OR_RETURN(std::string source, op.getString("source"));
  NYX_ASSIGN_OR_RETURN(std::string kernel, op.getString("kernel"));
  NYX_ASSIGN_OR_RETURN(int64_t grid, op.getInt("grid"));
  NYX_ASSIGN_OR_RETURN(int64_t block, op.getInt("block"));
  NYX_ASSIGN_OR_RETURN(std::vector<int64_t> shape, op.getInts("shape"));
  NYX_ASSIGN_OR_RETURN(DType dtype, op.getDType("dtype"));
  if (source.empty())
    return opError(op, "attribute 'source' is empty; expected the CUDA C++ "
                       "source of the kernel");
  if (!isIdentifier(kernel))
    return opError(op, strCat("attribute 'kernel' is '", kernel,
                              "'; expected the name of an extern \"C\" "
                              "__global__ function of the source"));
  if (grid < 1 || grid > kMaxGrid)
    return opError(op, strCat("attribute 'grid' is ", grid, "; expected 1 to ",
                              kMaxGrid, " blocks"));
  if (block < 1 || block > kMaxBlock)
    return opError(op, strCat("attribute 'block' is ", block,
                              "; expected 1 to ", kMaxBlock, " threads"));
  TensorType t{dtype, Shape(shape.begin(), shape.end())};
  NYX_RETURN_IF_ERROR(checkTensorType(t));
  return std::vector<TensorType>{t};
}

} // namespace

void registerCustomCudaOps(OpRegistry &r) {
  OpDef def;
  def.name = "custom_cuda";
  def.minOperands = 0;
  def.maxOperands = -1;
  def.inferTypes = inferCustomCuda;
  def.interpret = [](const Op &op, std::span<const Tensor *const>,
                     std::span<Tensor>, const InterpContext &) {
    return opError(op, "runs CUDA code, which the interpreter cannot; "
                       "expected a model compiled for a cuda-* target");
  };
  r.add(std::move(def));
}

} // namespace nyx::ir
