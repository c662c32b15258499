#include "tuning/op_key.h"

#include <vector>

#include "codegen/kernel/gemm_schedule.h"
#include "ir/buffer_rules.h"
#include "ir/op_registry.h"
#include "ir/printer.h"
#include "ir/strings.h"
#include "llvm/Config/llvm-config.h"

namespace nyx::tuning {

std::string opSignature(const ir::Op &op) {
  std::vector<std::string> operands, attrs;
  for (const ir::Value *v : op.operands)
    operands.push_back(v->type.str());
  for (const auto &[name, value] : op.attrs)
    if (name != ir::kScheduleAttr && name != ir::kArenaOffsetsAttr)
      attrs.push_back(strCat(name, " = ", ir::printAttribute(value)));
  std::string sig = strCat(op.name(), "(", strJoin(operands, ", "), ")");
  if (!attrs.empty())
    sig += strCat(" {", strJoin(attrs, ", "), "}");
  return sig;
}

std::string compilerVersion() {
  return strCat("nyx ", NYX_VERSION, ", gemm ", kernel::kGemmRevision,
                ", LLVM ", LLVM_VERSION_STRING);
}

TuningKey tuningKey(const ir::Op &op, const TargetKey &target,
                    int64_t threads) {
  return {opSignature(op), target.cpu, target.features, threads,
          compilerVersion()};
}

} // namespace nyx::tuning
