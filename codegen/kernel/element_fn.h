// Element functions: the one definition of every Elementwise and Injective
// op (ir::FusionKind) at the kernel level. An ElementFn gives the value of
// one element of the op's result in terms of elements of its operands; the
// standalone kernel of such an op and every fused kernel that contains it
// are both built from it.
//
// Element values. An element travels between ops as an ExprRef in one of
// two forms: its compute type (f32 for f16/bf16, see computeType), or for
// f16/bf16 its stored bits (what Builder::loadStored yields). Data movement
// passes values on untouched, so a chain of copies moves every bit, NaN
// payloads included; arithmetic takes computeValue() of its operands. The
// two forms differ only for f16/bf16.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "codegen/kernel/loop_ir.h"
#include "ir/module.h"

namespace nyx::kernel {

// `v` in its compute type: stored f16/bf16 bits are widened to f32 (a load
// of stored bits becomes a computing load).
ExprRef computeValue(const ExprRef &v);
// `v` as an element of `storage`: an f32 value of an f16/bf16 element is
// rounded (once, to nearest even) to stored bits, as a store then a load
// would; other values are already elements of their type.
ExprRef storedValue(const ExprRef &v, ir::DType storage);

// Operand `operand`'s element at `coords` (one i64 index per dimension of
// that operand's shape), in either form.
using OperandAt = std::function<absl::StatusOr<ExprRef>(
    int operand, std::vector<ExprRef> coords)>;

// The element of `op`'s result at `coords` (one i64 index per result
// dimension), of the result's dtype in either form. Errors name the op and
// what is wrong with it (attributes the op's verifier would reject).
using ElementFn = std::function<absl::StatusOr<ExprRef>(
    const ir::Op &op, const std::vector<ExprRef> &coords,
    const OperandAt &operandAt)>;

// Null for ops that are neither Elementwise nor Injective.
const ElementFn *lookupElementFn(std::string_view opName);

class ElementFnRegistry {
public:
  void add(std::string_view opName, ElementFn fn);
  std::map<std::string, ElementFn, std::less<>> fns;
};

void registerElementwiseElementFns(ElementFnRegistry &r);
void registerShapeElementFns(ElementFnRegistry &r);

// Standalone kernels derived from an op's ElementFn; the buffers are the
// op's operands then its result.
// Elementwise ops: one parallel loop over the flat output index, so the
// whole kernel is one loop the backend can split across threads; operands
// that broadcast pay a division per element (fusion removes it).
absl::StatusOr<Kernel> lowerElementwiseOp(const ir::Op &op, std::string name);
// Injective ops: a parallel loop nest over the result shape, or one flat
// loop where that costs no index division (a reshape is one flat copy, a
// transpose one loop per dimension).
absl::StatusOr<Kernel> lowerInjectiveOp(const ir::Op &op, std::string name);

} // namespace nyx::kernel
