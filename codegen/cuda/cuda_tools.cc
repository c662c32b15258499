#include "codegen/cuda/cuda_tools.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "codegen/cuda/device_code.h"
#include "ir/strings.h"

namespace nyx::codegen::cuda {
namespace {

// A private directory removed with everything in it when this goes.
class TempDir {
public:
  TempDir() {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "nyx-cuda-XXXXXX").string();
    if (mkdtemp(tmpl.data()))
      path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty())
      std::filesystem::remove_all(path_, ec);
  }
  bool ok() const { return !path_.empty(); }
  std::string file(const char *name) const { return path_ + "/" + name; }

private:
  std::string path_;
};

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

bool writeFile(const std::string &path, const std::string &data) {
  std::ofstream out(path, std::ios::binary);
  out << data;
  return static_cast<bool>(out);
}

std::string quoted(const std::string &s) { return "'" + s + "'"; }

// Runs `tool args` with stdout to `out` and stderr to `log`.
absl::Status runTool(const std::string &tool, const std::string &args,
                     const std::string &out, const std::string &log) {
  std::string command =
      strCat(quoted(tool), " ", args, " >", quoted(out), " 2>", quoted(log));
  int rc = std::system(command.c_str());
  if (rc != 0)
    return absl::InvalidArgumentError(
        strCat(std::filesystem::path(tool).filename().string(), " failed:\n",
               readFile(log)));
  return absl::OkStatus();
}

} // namespace

std::optional<std::string> findCudaTool(const std::string &name) {
  std::string path = strCat(cudaToolkitPath(), "/bin/", name);
  if (access(path.c_str(), X_OK) != 0)
    return std::nullopt;
  return path;
}

absl::StatusOr<std::string> assembleCubin(const std::string &ptx,
                                          const std::string &arch) {
  auto ptxas = findCudaTool("ptxas");
  if (!ptxas)
    return absl::NotFoundError(strCat("ptxas not found under ",
                                      cudaToolkitPath(),
                                      "/bin; set NYX_CUDA_PATH"));
  TempDir dir;
  if (!dir.ok() || !writeFile(dir.file("kernels.ptx"), ptx))
    return absl::InternalError("cannot write a temporary file for ptxas");
  if (auto s = runTool(*ptxas,
                       strCat("-arch=", arch, " -o ",
                              quoted(dir.file("kernels.cubin")), " ",
                              quoted(dir.file("kernels.ptx"))),
                       dir.file("ptxas.out"), dir.file("ptxas.log"));
      !s.ok())
    return s;
  return readFile(dir.file("kernels.cubin"));
}

absl::StatusOr<std::string> disassembleCubin(const std::string &cubin) {
  auto cuobjdump = findCudaTool("cuobjdump");
  if (!cuobjdump)
    return absl::NotFoundError(strCat("cuobjdump not found under ",
                                      cudaToolkitPath(),
                                      "/bin; --emit=cuda-asm needs it"));
  TempDir dir;
  if (!dir.ok() || !writeFile(dir.file("kernels.cubin"), cubin))
    return absl::InternalError("cannot write a temporary file for cuobjdump");
  if (auto s = runTool(*cuobjdump,
                       strCat("-sass ", quoted(dir.file("kernels.cubin"))),
                       dir.file("sass.txt"), dir.file("cuobjdump.log"));
      !s.ok())
    return s;
  return readFile(dir.file("sass.txt"));
}

} // namespace nyx::codegen::cuda
