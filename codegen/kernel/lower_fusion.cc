#include "codegen/kernel/lower_fusion.h"

#include <algorithm>
#include <unordered_set>

#include "absl/status/status.h"
#include "codegen/kernel/anchor_rewrite.h"
#include "codegen/kernel/element_fn.h"
#include "codegen/kernel/fused_values.h"
#include "codegen/kernel/gemm.h"
#include "codegen/kernel/gemm_i8.h"
#include "codegen/kernel/index_math.h"
#include "codegen/kernel/iteration.h"
#include "codegen/kernel/lowering.h"
#include "ir/op_registry.h"
#include "ir/strings.h"

namespace nyx::kernel {
namespace {

using B = Builder;

bool isAnchorKind(ir::FusionKind k) {
  return k == ir::FusionKind::Reduction || k == ir::FusionKind::Normalization ||
         k == ir::FusionKind::Contraction || k == ir::FusionKind::Other;
}

std::string opLabel(const ir::Op &op) {
  std::string results;
  for (const ir::Value *r : op.results)
    results += (results.empty() ? "%" : ", %") + r->name;
  return strCat("'", op.name(), "' (", results.empty() ? "no result" : results,
                ")");
}

class FusionLowering {
public:
  FusionLowering(const ir::Function &body, std::string name)
      : body_(body), name_(std::move(name)) {}

  absl::StatusOr<Kernel> run() {
    if (body_.returns.empty())
      return error(strCat("returns nothing; expected at least one value"));
    const ir::Op *anchor = nullptr;
    for (const auto &op : body_.ops) {
      const ir::FusionKind kind = op->def->fusion;
      if (kind == ir::FusionKind::Opaque) {
        if (op->name() != "constant")
          return error(strCat(opLabel(*op),
                              " cannot be part of a fused kernel; expected "
                              "ops that compute and splat constants"));
        if (auto s = splatValue(*op); !s.ok())
          return error(strCat(opLabel(*op), ": ", s.status().message()));
      } else if (isAnchorKind(kind)) {
        if (anchor)
          return error(strCat(opLabel(*anchor), " and ", opLabel(*op),
                              " are both anchors; expected at most one "
                              "reduction, normalization, contraction or "
                              "other op"));
        anchor = op.get();
      } else if (!lookupElementFn(op->name())) {
        return error(strCat(opLabel(*op),
                            " has no element function; expected an "
                            "elementwise or injective op"));
      }
    }
    Kernel k;
    k.name = name_;
    for (const ir::Value *p : body_.params)
      k.buffers.push_back(bufferFor(*p, false));
    for (const ir::Value *r : body_.returns)
      k.buffers.push_back(bufferFor(*r, true));
    auto s = anchor ? anchorGroup(*anchor, k) : loopGroup(k);
    if (!s.ok())
      return error(std::string(s.message()));
    return k;
  }

private:
  absl::Status error(std::string_view message) const {
    return absl::InvalidArgumentError(
        strCat("kernel @", body_.name, ": ", message));
  }

  absl::Status loopGroup(Kernel &k) {
    const ir::Shape &shape = body_.returns[0]->type.shape;
    for (const ir::Value *r : body_.returns)
      if (r->type.shape != shape)
        return absl::InvalidArgumentError(
            strCat("returns %", body_.returns[0]->name, " : ",
                   body_.returns[0]->type.str(), " and %", r->name, " : ",
                   r->type.str(),
                   "; expected every value of a loop group to have one shape"));
    const int first = static_cast<int>(body_.params.size());
    auto nest = mergedLoopNest(
        shape,
        [&](Builder &b, const std::vector<ExprRef> &coords,
            const VarExtents &extents) -> absl::StatusOr<std::vector<StmtRef>> {
          FusedValues values(body_, extents, &b);
          std::vector<ExprRef> stored;
          for (const ir::Value *r : body_.returns) {
            auto v = values.at(r, coords);
            if (!v.ok())
              return v.status();
            stored.push_back(*v);
          }
          std::vector<StmtRef> stmts = values.takeDeclares();
          ExprRef at = simplify(ravel(coords, shape), extents);
          for (size_t r = 0; r < stored.size(); ++r)
            stmts.push_back(
                B::store(first + static_cast<int>(r), at, stored[r]));
          return stmts;
        });
    if (!nest.ok())
      return nest.status();
    k.body = *nest;
    return absl::OkStatus();
  }

  // Splits the ops around `anchor` into prologue/side values (not
  // depending on it) and epilogue values (depending on it), and checks the
  // epilogue reads the anchor only at the same position.
  absl::Status checkAnchorForm(const ir::Op &anchor) {
    const ir::Value *result = anchor.result();
    std::unordered_set<const ir::Value *> epilogue = {result};
    for (const auto &op : body_.ops) {
      if (op.get() == &anchor)
        continue;
      bool reads = std::any_of(
          op->operands.begin(), op->operands.end(),
          [&](const ir::Value *v) { return epilogue.count(v) > 0; });
      if (!reads)
        continue;
      if (op->def->fusion != ir::FusionKind::Elementwise ||
          op->result()->type.shape != result->type.shape)
        return absl::InvalidArgumentError(
            strCat(opLabel(*op), " reads the result of ", opLabel(anchor),
                   "; expected only elementwise ops of its shape ",
                   result->type.str(), " after the anchor"));
      epilogue.insert(op->result());
    }
    for (const ir::Value *r : body_.returns)
      if (!epilogue.count(r))
        return absl::InvalidArgumentError(
            strCat("returns %", r->name, ", which does not depend on ",
                   opLabel(anchor),
                   "; expected only the anchor's result and values computed "
                   "from it"));
    return absl::OkStatus();
  }

  absl::Status anchorGroup(const ir::Op &anchor, Kernel &k) {
    if (anchor.results.size() != 1)
      return absl::InvalidArgumentError(
          strCat(opLabel(anchor), " has ", anchor.results.size(),
                 " results; expected an anchor with one result"));
    if (auto s = checkAnchorForm(anchor); !s.ok())
      return s;
    if (auto form = gemmFormOf(anchor))
      return gemmGroup(anchor, *form, k);
    if (isGemmI8(anchor))
      return gemmGroup(anchor, *matmulGemmForm(anchor), k);
    const LowerFn *lower = lookupLowering(anchor.name());
    if (!lower)
      return absl::InvalidArgumentError(
          strCat(opLabel(anchor), " has no lowering"));
    auto anchorKernel = (*lower)(anchor, name_);
    if (!anchorKernel.ok())
      return anchorKernel.status();
    auto rewritten = rewriteAnchorKernel(body_, anchor, *anchorKernel);
    if (!rewritten.ok())
      return rewritten.status();
    k.body = *rewritten;
    return absl::OkStatus();
  }

  // A GEMM anchor: packing reads the prologue's values, the epilogue
  // consumes each finished element of the product.
  absl::Status gemmGroup(const ir::Op &anchor, const GemmForm &form,
                         Kernel &k) {
    const VarExtents none;
    Builder b(0);
    FusedValues operands(body_, none, nullptr);
    FusedValues results(body_, none, &b);
    const int first = static_cast<int>(body_.params.size());
    GemmIo io;
    io.load = [&](int operand, const std::vector<ExprRef> &coords) {
      return operands.at(anchor.operand(operand), coords);
    };
    io.store = [&](const std::vector<ExprRef> &coords,
                   ExprRef value) -> absl::StatusOr<std::vector<StmtRef>> {
      results.setAnchor(anchor.result(), value);
      std::vector<ExprRef> stored;
      for (const ir::Value *r : body_.returns) {
        auto v = results.at(r, coords);
        if (!v.ok())
          return v.status();
        stored.push_back(*v);
      }
      std::vector<StmtRef> stmts = results.takeDeclares();
      const ir::Shape &shape = anchor.result()->type.shape;
      for (size_t r = 0; r < stored.size(); ++r)
        stmts.push_back(B::store(first + static_cast<int>(r),
                                 ravel(coords, shape), stored[r]));
      return stmts;
    };
    for (size_t i = 0; i < body_.params.size(); ++i) {
      if (body_.params[i] == anchor.operand(form.aOperand))
        io.aBuffer = static_cast<int>(i);
      if (body_.params[i] == anchor.operand(form.bOperand))
        io.bBuffer = static_cast<int>(i);
    }
    absl::StatusOr<StmtRef> gemm;
    if (isGemmI8(anchor)) {
      gemm = buildGemmI8(form, io, k, b);
    } else {
      auto schedule = scheduleOf(anchor, form.shape);
      if (!schedule.ok())
        return schedule.status();
      gemm = buildGemm(form, *schedule, io, k, b);
    }
    if (!gemm.ok())
      return gemm.status();
    k.body = *gemm;
    return absl::OkStatus();
  }

  const ir::Function &body_;
  std::string name_;
};

} // namespace

absl::StatusOr<Kernel> lowerFusion(const ir::Function &body, std::string name) {
  return FusionLowering(body, std::move(name)).run();
}

} // namespace nyx::kernel
