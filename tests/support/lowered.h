// Lowering `.nyx` text in unit tests: one op of @main to its kernel, or a
// kernel function @k to its fused kernel, with the printed loop IR.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "codegen/kernel/loop_ir.h"
#include "codegen/kernel/lower_fusion.h"
#include "codegen/kernel/lowering.h"
#include "ir/module.h"
#include "ir/parser.h"
#include "gtest/gtest.h"

namespace nyx::test {

struct Lowered {
  std::unique_ptr<ir::Module> module;
  absl::StatusOr<kernel::Kernel> kernel = absl::UnknownError("not lowered");
  std::string printed; // the kernel's loop IR, when it lowered
  std::string error() const { return std::string(kernel.status().message()); }
};

// `text` parsed into a Lowered, its module null when it does not parse.
inline Lowered parsedForLowering(const std::string &text) {
  Lowered l;
  auto parsed = ir::parseModule(text, "test.nyx");
  EXPECT_TRUE(parsed.ok()) << parsed.status().message() << "\n" << text;
  if (parsed.ok())
    l.module = std::move(*parsed);
  return l;
}

// Lowers the first op of the first function of `text` with its LowerFn,
// into a kernel named "k".
inline Lowered lowerFirstOp(const std::string &text) {
  Lowered l = parsedForLowering(text);
  if (!l.module)
    return l;
  const ir::Op &op = *l.module->functions[0]->ops[0];
  const kernel::LowerFn *fn = kernel::lookupLowering(op.name());
  EXPECT_NE(fn, nullptr) << "no lowering for " << op.name();
  if (!fn)
    return l;
  l.kernel = (*fn)(op, "k");
  if (l.kernel.ok())
    l.printed = kernel::print(*l.kernel);
  return l;
}

// Lowers the kernel function @k of `text` as a fused kernel named "fused".
inline Lowered lowerKernelFunction(const std::string &text) {
  Lowered l = parsedForLowering(text);
  if (!l.module)
    return l;
  const ir::Function *k = l.module->lookupFunction("k");
  EXPECT_NE(k, nullptr);
  if (!k)
    return l;
  EXPECT_TRUE(k->isKernel);
  l.kernel = kernel::lowerFusion(*k, "fused");
  if (l.kernel.ok())
    l.printed = kernel::print(*l.kernel);
  return l;
}

} // namespace nyx::test
