#include "compiler/weights.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "ir/diagnostic.h"
#include "ir/strings.h"
#include "nyx/runtime.h"
#include "nyx/safetensors.h"

namespace nyx::compiler {

static std::string declaredAt(const ir::Module &m, const ir::Param &p) {
  return ir::formatLocation(m.filename, p.loc);
}

static absl::Status fileError(const std::string &path, std::string message) {
  return absl::InvalidArgumentError(strCat(path, ": error: ", message));
}

absl::StatusOr<ir::WeightMap> loadWeights(const ir::Module &module,
                                          const std::string &path) {
  nyx_safetensors *file = nullptr;
  if (nyx_safetensors_open(path.c_str(), &file) != NYX_OK)
    return fileError(path, nyx_last_error());
  ir::WeightMap weights;
  absl::Status status;
  for (const ir::Param &p : module.params) {
    nyx_tensor_view view;
    if (nyx_safetensors_find(file, p.name.c_str(), &view) != NYX_OK) {
      status = fileError(path, strCat("no tensor '", p.name,
                                      "'; the model declares it at ",
                                      declaredAt(module, p)));
      break;
    }
    ir::TensorType found{static_cast<ir::DType>(view.dtype),
                         ir::Shape(view.shape, view.shape + view.rank)};
    if (!(found == p.type)) {
      status = fileError(path, strCat("tensor '", p.name, "' is ", found.str(),
                                      "; the model declares ", p.type.str(),
                                      " at ", declaredAt(module, p)));
      break;
    }
    ir::Tensor t(found);
    std::memcpy(t.bytes(), view.data, t.byteSize());
    weights.emplace(p.name, std::move(t));
  }
  nyx_safetensors_close(file);
  if (!status.ok())
    return status;
  return weights;
}

absl::StatusOr<std::string> serializeWeights(const ir::Module &module,
                                             const ir::WeightMap &weights) {
  std::vector<nyx_tensor_view> views;
  for (const ir::Param &p : module.params) {
    auto it = weights.find(p.name);
    if (it == weights.end())
      return absl::InvalidArgumentError(
          strCat("no weights for param @", p.name));
    const ir::Tensor &t = it->second;
    views.push_back({p.name.c_str(), static_cast<nyx_dtype>(t.dtype()),
                     static_cast<int>(t.shape().size()), t.shape().data(),
                     t.bytes(), t.byteSize()});
  }
  // The runtime writes files; go through a private temporary one.
  char temp[] = "/tmp/nyx-weights-XXXXXX";
  int fd = ::mkstemp(temp);
  if (fd < 0)
    return absl::InternalError("cannot create a temporary file");
  ::close(fd);
  int rc = nyx_safetensors_write(temp, views.data(), views.size());
  std::string contents;
  if (rc == NYX_OK) {
    std::ifstream in(temp, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    contents = ss.str();
  }
  std::remove(temp);
  if (rc != NYX_OK)
    return absl::InternalError(
        strCat("cannot serialize weights: ", nyx_last_error()));
  return contents;
}

} // namespace nyx::compiler
