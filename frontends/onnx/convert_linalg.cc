// Converters of ONNX's matrix products: MatMul (NumPy's matmul) and Gemm,
// each a matmul IR op with reshapes or a scaled, biased sum around it.
#include <vector>

#include "frontends/onnx/convert_helpers.h"
#include "frontends/onnx/converters.h"
#include "ir/strings.h"

namespace nyx::onnx_import {
namespace {

using ir::DType;
using ir::Shape;
using ir::Value;

// NumPy's matmul: a 1-D operand becomes a matrix (a row on the left, a
// column on the right) and its axis is dropped from the result.
absl::Status convertMatMul(NodeContext &n) {
  Value *a = n.input(0);
  Value *b = n.input(1);
  if (!a || !b)
    return n.status();
  const Shape sa = a->type.shape, sb = b->type.shape;
  if (sa.empty() || sb.empty())
    return n.fail(strCat("operands are ", a->type.str(), " and ", b->type.str(),
                         "; expected rank >= 1"));
  if (a->type.dtype == DType::I8 || a->type.dtype == DType::Bool)
    return n.unsupported(strCat("dtype ", ir::dtypeName(a->type.dtype)));
  if (sa.size() == 1)
    a = reshape(n, a, {1, sa[0]});
  if (sb.size() == 1)
    b = reshape(n, b, {sb[0], 1});
  Value *y = n.op("matmul", {a, b});
  if (!y)
    return n.status();
  if (sa.size() == 1 || sb.size() == 1) {
    const Shape &s = y->type.shape;
    Shape out(s.begin(), s.end() - 2);
    if (sa.size() != 1)
      out.push_back(s[s.size() - 2]);
    if (sb.size() != 1)
      out.push_back(s.back());
    y = reshape(n, y, out);
  }
  n.setOutput(0, y);
  return n.status();
}

// Y = alpha * A' B' + beta * C, with C broadcast to Y's shape.
absl::Status convertGemm(NodeContext &n) {
  Value *a = n.input(0);
  Value *b = n.input(1);
  if (!a || !b)
    return n.status();
  if (a->type.rank() != 2 || b->type.rank() != 2)
    return n.fail(strCat("A is ", a->type.str(), " and B is ", b->type.str(),
                         "; expected matrices"));
  const double alpha = n.attrFloat("alpha", 1.0);
  const double beta = n.attrFloat("beta", 1.0);
  const bool transA = n.attrInt("transA", 0) != 0;
  const bool transB = n.attrInt("transB", 0) != 0;
  Value *y = n.op("matmul", {a, b},
                  {{"transpose_a", transA}, {"transpose_b", transB}});
  if (alpha != 1.0)
    y = n.op("mul", {y, n.scalarLike(alpha, y)});
  if (n.hasInput(2)) {
    Value *c = n.input(2);
    if (beta != 1.0)
      c = n.op("mul", {c, n.scalarLike(beta, c)});
    Value *sum = n.op("add", {y, c});
    if (sum && y && sum->type.shape != y->type.shape)
      return n.fail(strCat("C is ", c->type.str(),
                           "; expected a shape that "
                           "broadcasts to the product's ",
                           y->type.str()));
    y = sum;
  }
  n.setOutput(0, y);
  return n.status();
}

constexpr ConverterEntry kTable[] = {
    {"Gemm", convertGemm},
    {"MatMul", convertMatMul},
};

} // namespace

std::span<const ConverterEntry> linalgConverters() { return kTable; }

} // namespace nyx::onnx_import
