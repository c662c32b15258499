#include "codegen/cuda/custom_kernel.h"

#include <dlfcn.h>

#include <mutex>
#include <vector>

#include "codegen/cuda/device_code.h"
#include "ir/strings.h"

namespace nyx::codegen::cuda {
namespace {

// The few NVRTC entry points used, declared here so Nyx builds without the
// toolkit's headers.
using Program = struct NvrtcProgram *;
struct Nvrtc {
  const char *(*errorString)(int);
  int (*create)(Program *, const char *, const char *, int, const char *const *,
                const char *const *);
  int (*compile)(Program, int, const char *const *);
  int (*logSize)(Program, size_t *);
  int (*log)(Program, char *);
  int (*ptxSize)(Program, size_t *);
  int (*ptx)(Program, char *);
  int (*destroy)(Program *);
};

absl::StatusOr<const Nvrtc *> loadNvrtc() {
  static Nvrtc nvrtc;
  static absl::Status status;
  static std::once_flag once;
  std::call_once(once, [] {
    std::string path = strCat(cudaToolkitPath(), "/lib64/libnvrtc.so");
    void *lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      status = absl::NotFoundError(
          strCat("'custom_cuda' needs NVRTC, which is not at ", path,
                 "; expected the CUDA toolkit there or under $NYX_CUDA_PATH"));
      return;
    }
    auto bind = [&](auto &fn, const char *name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(
          dlsym(lib, name));
      if (!fn && status.ok())
        status = absl::NotFoundError(strCat(path, " has no ", name));
    };
    bind(nvrtc.errorString, "nvrtcGetErrorString");
    bind(nvrtc.create, "nvrtcCreateProgram");
    bind(nvrtc.compile, "nvrtcCompileProgram");
    bind(nvrtc.logSize, "nvrtcGetProgramLogSize");
    bind(nvrtc.log, "nvrtcGetProgramLog");
    bind(nvrtc.ptxSize, "nvrtcGetPTXSize");
    bind(nvrtc.ptx, "nvrtcGetPTX");
    bind(nvrtc.destroy, "nvrtcDestroyProgram");
  });
  if (!status.ok())
    return status;
  return &nvrtc;
}

} // namespace

absl::StatusOr<CustomKernel> compileCustomKernel(const ir::Op &op,
                                                 const CudaTarget &target) {
  auto nvrtc = loadNvrtc();
  if (!nvrtc.ok())
    return nvrtc.status();
  const Nvrtc &api = **nvrtc;
  CustomKernel k;
  auto source = op.getString("source");
  auto kernel = op.getString("kernel");
  auto grid = op.getInt("grid");
  auto block = op.getInt("block");
  if (!source.ok() || !kernel.ok() || !grid.ok() || !block.ok())
    return absl::InvalidArgumentError(
        "'custom_cuda' needs 'source', 'kernel', 'grid' and 'block'");
  k.kernel = *kernel;
  k.grid = *grid;
  k.block = *block;

  Program program = nullptr;
  std::string fileName = strCat(k.kernel, ".cu");
  if (int rc = api.create(&program, source->c_str(), fileName.c_str(), 0,
                          nullptr, nullptr))
    return absl::InternalError(
        strCat("NVRTC could not take the source: ", api.errorString(rc)));
  std::string arch = "--gpu-architecture=compute_" + target.arch.substr(3);
  std::string include = strCat("-I", cudaToolkitPath(), "/include");
  std::vector<const char *> options = {arch.c_str(), include.c_str(),
                                       "--std=c++17"};
  int rc =
      api.compile(program, static_cast<int>(options.size()), options.data());
  size_t logSize = 0;
  std::string log;
  if (api.logSize(program, &logSize) == 0 && logSize > 1) {
    log.resize(logSize);
    api.log(program, log.data());
    log.resize(logSize - 1);
  }
  size_t ptxSize = 0;
  if (rc == 0 && api.ptxSize(program, &ptxSize) == 0 && ptxSize > 0) {
    k.ptx.resize(ptxSize);
    api.ptx(program, k.ptx.data());
    k.ptx.resize(ptxSize - 1); // the size counts the NUL
  }
  api.destroy(&program);
  if (rc != 0)
    return absl::InvalidArgumentError(
        strCat("'custom_cuda' source does not compile (", api.errorString(rc),
               "):\n", log));
  if (k.ptx.find(strCat(".entry ", k.kernel, "(")) == std::string::npos)
    return absl::InvalidArgumentError(
        strCat("'custom_cuda' source has no kernel '", k.kernel,
               "'; expected an extern \"C\" __global__ function of that name"));
  return k;
}

} // namespace nyx::codegen::cuda
