#include "tuning/object_jit.h"

#include <dlfcn.h>

#include <mutex>

#include "ir/strings.h"
#include "nyx/runtime.h"
#include "llvm/ExecutionEngine/Orc/Core.h"
#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/TargetSelect.h"

namespace nyx::tuning {
namespace {

std::string message(llvm::Error error) {
  return llvm::toString(std::move(error));
}

// The runtime functions a generated object may call (docs/abi.md,
// nyx/runtime.h). Bound by address: libnyxrt is linked statically into the
// compiler, so its symbols are not in the process's dynamic symbol table.
struct RuntimeSymbol {
  const char *name;
  void *address;
};
const RuntimeSymbol kRuntimeSymbols[] = {
    {"nyx_parallel_for", reinterpret_cast<void *>(&nyx_parallel_for)},
    {"nyx_scratch", reinterpret_cast<void *>(&nyx_scratch)},
    {"nyx_get_num_threads", reinterpret_cast<void *>(&nyx_get_num_threads)},
    {"nyx_load_weights", reinterpret_cast<void *>(&nyx_load_weights)},
    {"nyx_free_weights", reinterpret_cast<void *>(&nyx_free_weights)},
};

} // namespace

JitModel::~JitModel() {
  if (llvm::Error e = jit_.jit_->getExecutionSession().removeJITDylib(library_))
    llvm::consumeError(std::move(e)); // nothing to do about it now
}

absl::StatusOr<std::unique_ptr<ObjectJit>> ObjectJit::create() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    // Vectorized loops call glibc's libmvec (_ZGVdN8v_sinf, ...), which the
    // JIT finds among the process's libraries. A program linked with -lm
    // gets it through libm's AS_NEEDED group; a process that calls none of
    // it directly does not, so it is loaded here. Without it, a model that
    // needs it fails to link and says which symbol is missing.
    dlopen("libmvec.so.1", RTLD_NOW | RTLD_GLOBAL);
  });
  auto jit = llvm::orc::LLJITBuilder().create();
  if (!jit)
    return absl::InternalError(
        strCat("cannot start the JIT: ", message(jit.takeError())));
  auto out = std::unique_ptr<ObjectJit>(new ObjectJit);
  out->jit_ = std::move(*jit);
  llvm::orc::ExecutionSession &es = out->jit_->getExecutionSession();
  llvm::orc::SymbolMap symbols;
  for (const RuntimeSymbol &s : kRuntimeSymbols)
    symbols[out->jit_->mangleAndIntern(s.name)] = {
        llvm::orc::ExecutorAddr::fromPtr(s.address),
        llvm::JITSymbolFlags::Exported | llvm::JITSymbolFlags::Callable};
  out->runtime_ = &es.createBareJITDylib("nyxrt");
  if (llvm::Error e =
          out->runtime_->define(llvm::orc::absoluteSymbols(std::move(symbols))))
    return absl::InternalError(
        strCat("cannot bind the runtime in the JIT: ", message(std::move(e))));
  return out;
}

ObjectJit::~ObjectJit() = default;

absl::StatusOr<std::unique_ptr<JitModel>>
ObjectJit::load(std::string_view object, const std::string &name) {
  llvm::orc::ExecutionSession &es = jit_->getExecutionSession();
  llvm::orc::JITDylib &library =
      es.createBareJITDylib(strCat(name, ".", loaded_++));
  auto model = std::unique_ptr<JitModel>(new JitModel(*this, library));
  library.addToLinkOrder(*runtime_);
  library.addToLinkOrder(*jit_->getProcessSymbolsJITDylib());
  if (llvm::Error e = jit_->addObjectFile(
          library, llvm::MemoryBuffer::getMemBufferCopy(
                       llvm::StringRef(object.data(), object.size()), name)))
    return absl::InternalError(
        strCat("cannot link the kernel object: ", message(std::move(e))));
  auto run = jit_->lookup(library, name + "_run_packed");
  if (!run)
    return absl::InternalError(strCat(
        "cannot link ", name, "_run_packed: ", message(run.takeError())));
  auto arena = jit_->lookup(library, name + "_arena_bytes");
  if (!arena)
    return absl::InternalError(strCat(
        "cannot link ", name, "_arena_bytes: ", message(arena.takeError())));
  model->runPacked_ = run->toPtr<JitModel::RunPackedFn>();
  model->arenaBytes_ = *arena->toPtr<const uint64_t *>();
  return model;
}

} // namespace nyx::tuning
