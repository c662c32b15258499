// Runs compiled model objects (codegen::CompiledModel::object(), the same
// machine code nyxc writes) in this process. Each object is linked by LLVM's
// ORC JIT into a library of its own; the runtime functions generated code
// calls resolve to this process's libnyxrt, bound by address so that the
// compiler needs no -rdynamic, and anything else (memcpy, expf, ...) to the
// process's shared libraries.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace llvm::orc {
class JITDylib;
class LLJIT;
} // namespace llvm::orc

namespace nyx::tuning {

class ObjectJit;

// A model object linked into the process; unlinked when destroyed, which
// must happen before its ObjectJit goes.
class JitModel {
public:
  using RunPackedFn = int (*)(void **buffers, void *arena);
  ~JitModel();
  JitModel(const JitModel &) = delete;
  JitModel &operator=(const JitModel &) = delete;

  // <name>_run_packed (docs/abi.md) and <name>_arena_bytes.
  RunPackedFn runPacked() const { return runPacked_; }
  uint64_t arenaBytes() const { return arenaBytes_; }

private:
  friend class ObjectJit;
  JitModel(ObjectJit &jit, llvm::orc::JITDylib &library)
      : jit_(jit), library_(library) {}
  ObjectJit &jit_;
  llvm::orc::JITDylib &library_;
  RunPackedFn runPacked_ = nullptr;
  uint64_t arenaBytes_ = 0;
};

class ObjectJit {
public:
  static absl::StatusOr<std::unique_ptr<ObjectJit>> create();
  ~ObjectJit();

  // Links `object`, a model compiled with model name `name`, and finds its
  // entry points.
  absl::StatusOr<std::unique_ptr<JitModel>> load(std::string_view object,
                                                 const std::string &name);

private:
  friend class JitModel;
  ObjectJit() = default;
  std::unique_ptr<llvm::orc::LLJIT> jit_;
  llvm::orc::JITDylib *runtime_ = nullptr; // libnyxrt's symbols
  int64_t loaded_ = 0;                     // names the libraries
};

} // namespace nyx::tuning
