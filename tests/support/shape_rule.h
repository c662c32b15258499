// Running one op's shape rule in tests: `infer` builds `name(operands...)
// {attrs}` in a fresh function and runs the registry's inferTypes on it;
// errorOf gives its message (or "ok: <type>"), resultOf its one result type.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ir/module.h"
#include "ir/op_registry.h"
#include "gtest/gtest.h"

namespace nyx::test {

inline ir::TensorType t(ir::DType dtype, ir::Shape shape) {
  return {dtype, std::move(shape)};
}

inline absl::StatusOr<std::vector<ir::TensorType>>
infer(std::string_view name, const std::vector<ir::TensorType> &operands,
      ir::Attributes attrs = {}) {
  ir::Module module;
  ir::Function *f = module.addFunction("main");
  std::vector<ir::Value *> values;
  for (size_t i = 0; i < operands.size(); ++i)
    values.push_back(f->addParam("p" + std::to_string(i), operands[i]));
  const ir::OpDef *def = ir::lookupOp(name);
  EXPECT_NE(def, nullptr) << name;
  if (!def)
    return absl::NotFoundError("no such op");
  ir::Op *op = f->appendOp(def, values, std::move(attrs), {});
  return def->inferTypes(*op, module);
}

inline std::string errorOf(std::string_view name,
                           const std::vector<ir::TensorType> &operands,
                           ir::Attributes attrs = {}) {
  auto r = infer(name, operands, std::move(attrs));
  if (r.ok())
    return "ok: " + (r->empty() ? std::string() : (*r)[0].str());
  return std::string(r.status().message());
}

inline ir::TensorType resultOf(std::string_view name,
                               const std::vector<ir::TensorType> &operands,
                               ir::Attributes attrs = {}) {
  auto r = infer(name, operands, std::move(attrs));
  EXPECT_TRUE(r.ok()) << r.status().message();
  if (!r.ok() || r->size() != 1)
    return {};
  return (*r)[0];
}

} // namespace nyx::test
