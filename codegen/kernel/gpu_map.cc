#include "codegen/kernel/gpu_map.h"

#include <set>

#include "ir/strings.h"

namespace nyx::kernel {
namespace {

using B = Builder;

// Threads per block for launches with many threads: enough warps to hide
// memory latency, few enough that small grids still fill every SM.
constexpr int64_t kBlockSize = 256;
// A 1-D grid has at most 2^31 - 1 blocks.
constexpr int64_t kMaxThreads = ((int64_t{1} << 31) - 1) * kBlockSize;

const Stmt *unwrapBlocks(const Stmt *s) {
  while (s->kind == Stmt::Kind::Block && s->body.size() == 1)
    s = s->body[0].get();
  return s;
}

bool isMappableLoop(const Stmt &s) {
  return s.kind == Stmt::Kind::For && s.loopKind == LoopKind::Parallel &&
         s.extent->kind == Expr::Kind::IntConst && s.extent->intValue >= 1;
}

bool usesRegisterTiles(const Stmt &s) {
  if (s.kind == Stmt::Kind::MatmulTile)
    return true;
  for (const auto &list : {s.body, s.orElse})
    for (const StmtRef &child : list)
      if (usesRegisterTiles(*child))
        return true;
  return false;
}

// The locals `s` declares and the variables it reads or assigns. (A loop
// index lives only in its loop.)
void varsOf(const Stmt &s, std::set<int> &declared, std::set<int> &used) {
  if (s.kind == Stmt::Kind::Declare)
    declared.insert(s.var.id);
  if (s.kind == Stmt::Kind::Assign)
    used.insert(s.var.id);
  for (const ExprRef &e : {s.extent, s.index, s.value})
    if (e)
      usedVars(*e, used);
  if (s.tile)
    for (const ExprRef &e : {s.tile->aIndex, s.tile->bIndex, s.tile->accumulate,
                             s.tile->aRow.tableIndex, s.tile->aStep.tableIndex,
                             s.tile->bRow.tableIndex, s.tile->bCols})
      if (e)
        usedVars(*e, used);
  for (const auto &list : {s.body, s.orElse})
    for (const StmtRef &child : list)
      varsOf(*child, declared, used);
}

// Whether a statement of `top` uses a variable an earlier one declares:
// then they cannot be launches of their own.
bool sharesLocals(const std::vector<StmtRef> &top) {
  std::set<int> declaredBefore;
  for (const StmtRef &s : top) {
    std::set<int> declared, used;
    varsOf(*s, declared, used);
    for (int id : used)
      if (declaredBefore.count(id))
        return true;
    declaredBefore.insert(declared.begin(), declared.end());
  }
  return false;
}

// The largest variable id of `s`, so new variables get fresh ids.
int maxVarId(const Stmt &s) {
  int id = s.var.id;
  for (const auto &list : {s.body, s.orElse})
    for (const StmtRef &child : list)
      id = std::max(id, maxVarId(*child));
  return id;
}

class Mapper {
public:
  explicit Mapper(const Kernel &k) : kernel_(k), b_(maxVarId(*k.body) + 1) {}

  absl::StatusOr<std::vector<GpuLaunch>> run() {
    std::vector<StmtRef> top = {kernel_.body};
    if (kernel_.body->kind == Stmt::Kind::Block)
      top = kernel_.body->body;
    if (sharesLocals(top))
      return std::vector<GpuLaunch>{singleThread(top)};
    std::vector<GpuLaunch> launches;
    std::vector<StmtRef> serial;
    for (const StmtRef &s : top) {
      if (!isMappableLoop(*unwrapBlocks(s.get()))) {
        serial.push_back(s);
        continue;
      }
      if (!serial.empty())
        launches.push_back(singleThread(std::exchange(serial, {})));
      auto launch = threadPerIteration(*unwrapBlocks(s.get()));
      if (!launch.ok())
        return launch.status();
      launches.push_back(std::move(*launch));
    }
    if (!serial.empty())
      launches.push_back(singleThread(serial));
    for (size_t i = 0; i < launches.size(); ++i)
      launches[i].kernel.name =
          launches.size() == 1 ? kernel_.name : strCat(kernel_.name, "_", i);
    return launches;
  }

private:
  GpuLaunch launch(std::vector<StmtRef> body, int64_t threads) {
    GpuLaunch l;
    l.kernel = kernel_;
    l.thread = b_.newVar(DType::I64, "thread");
    l.threads = threads;
    // Small grids get one block of whole warps.
    l.blockSize = threads >= kBlockSize ? kBlockSize : (threads + 31) / 32 * 32;
    l.kernel.body =
        B::ifThen(B::compare(CmpFn::Lt, B::ref(l.thread), B::i64(threads)),
                  std::move(body));
    return l;
  }

  GpuLaunch singleThread(std::vector<StmtRef> body) {
    return launch(std::move(body), 1);
  }

  // The nest of Parallel loops starting at `outer`, one thread per
  // iteration; each loop index is declared from the thread index.
  absl::StatusOr<GpuLaunch> threadPerIteration(const Stmt &outer) {
    std::vector<const Stmt *> loops = {&outer};
    for (;;) {
      const Stmt &last = *loops.back();
      if (last.body.size() != 1)
        break;
      const Stmt *inner = unwrapBlocks(last.body[0].get());
      if (!isMappableLoop(*inner))
        break;
      loops.push_back(inner);
    }
    int64_t threads = 1;
    for (const Stmt *l : loops) {
      if (l->extent->intValue > kMaxThreads / threads)
        return absl::InvalidArgumentError(
            strCat("kernel '", kernel_.name, "' has more than ", kMaxThreads,
                   " parallel iterations; expected at most one 1-D grid"));
      threads *= l->extent->intValue;
    }
    GpuLaunch l = launch({}, threads);
    ExprRef thread = B::ref(l.thread);
    std::vector<StmtRef> body;
    int64_t stride = threads;
    for (const Stmt *loop : loops) {
      stride /= loop->extent->intValue;
      ExprRef index = B::binary(BinaryFn::Div, thread, B::i64(stride));
      if (loop != loops.front())
        index = B::binary(BinaryFn::Rem, index, loop->extent);
      body.push_back(B::declare(loop->var, index));
    }
    for (const StmtRef &s : loops.back()->body)
      body.push_back(s);
    l.kernel.body = B::ifThen(B::compare(CmpFn::Lt, thread, B::i64(threads)),
                              std::move(body));
    return l;
  }

  const Kernel &kernel_;
  Builder b_;
};

} // namespace

absl::StatusOr<std::vector<GpuLaunch>> mapToGpu(const Kernel &kernel) {
  if (kernel.numParams() != kernel.buffers.size() ||
      (kernel.body && usesRegisterTiles(*kernel.body)))
    return absl::InvalidArgumentError(
        strCat("kernel '", kernel.name,
               "' is a CPU GEMM kernel (scratch buffers, register tiles); "
               "expected a plain loop nest for a GPU"));
  if (!kernel.body)
    return std::vector<GpuLaunch>{};
  return Mapper(kernel).run();
}

Kernel runLaunchesInOrder(const Kernel &original,
                          const std::vector<GpuLaunch> &launches) {
  Kernel k = original;
  std::vector<StmtRef> body;
  for (const GpuLaunch &l : launches)
    body.push_back(
        B::loop(l.thread, B::i64(l.blocks() * l.blockSize), {l.kernel.body}));
  k.body = B::block(std::move(body));
  return k;
}

} // namespace nyx::kernel
