#include "compiler/tensor_files.h"

#include <cstring>

#include "ir/strings.h"
#include "nyx/npy.h"
#include "nyx/runtime.h"
#include "nyx/safetensors.h"

namespace nyx::compiler {

namespace {

ir::Tensor tensorOf(nyx_dtype dtype, int rank, const int64_t *shape,
                    const void *data, size_t bytes) {
  ir::Tensor t(ir::TensorType{static_cast<ir::DType>(dtype),
                              ir::Shape(shape, shape + rank)});
  if (bytes > 0)
    std::memcpy(t.bytes(), data, bytes);
  return t;
}

} // namespace

absl::StatusOr<ir::Tensor> readNpy(const std::string &path) {
  nyx_dtype dtype;
  int rank = 0;
  int64_t shape[8];
  void *data = nullptr;
  size_t bytes = 0;
  if (nyx_npy_read(path.c_str(), &dtype, &rank, shape, &data, &bytes) != NYX_OK)
    return absl::InvalidArgumentError(
        strCat(path, ": error: ", nyx_last_error()));
  ir::Tensor t = tensorOf(dtype, rank, shape, data, bytes);
  nyx_free(data);
  return t;
}

absl::Status writeNpy(const std::string &path, const ir::Tensor &t) {
  if (nyx_npy_write(path.c_str(), static_cast<nyx_dtype>(t.dtype()),
                    static_cast<int>(t.shape().size()), t.shape().data(),
                    t.bytes()) != NYX_OK)
    return absl::PermissionDeniedError(
        strCat("cannot write '", path, "': ", nyx_last_error()));
  return absl::OkStatus();
}

absl::StatusOr<std::map<std::string, ir::Tensor, std::less<>>>
readSafetensors(const std::string &path) {
  nyx_safetensors *file = nullptr;
  if (nyx_safetensors_open(path.c_str(), &file) != NYX_OK)
    return absl::InvalidArgumentError(
        strCat(path, ": error: ", nyx_last_error()));
  std::map<std::string, ir::Tensor, std::less<>> tensors;
  for (size_t i = 0; i < nyx_safetensors_count(file); ++i) {
    nyx_tensor_view v;
    nyx_safetensors_get(file, i, &v);
    tensors.emplace(v.name,
                    tensorOf(v.dtype, v.rank, v.shape, v.data, v.nbytes));
  }
  nyx_safetensors_close(file);
  return tensors;
}

} // namespace nyx::compiler
