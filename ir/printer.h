// The printer of the `.nyx` text format. Its output parses back (parser.h)
// to a module that prints identically.
#pragma once

#include <string>

#include "ir/module.h"

namespace nyx::ir {

// `module @name`, then the params, then the functions in order.
std::string printModule(const Module &module);
// `func @f(...) -> (...) { ... }` with a trailing newline.
std::string printFunction(const Function &function);
// One op, without indentation or newline:
// `%0 = matmul(%x, %w) {transpose_b = true} : f32[32,128]`.
std::string printOp(const Op &op);

// Pieces shared with the JSON form and with messages.
std::string printAttribute(const Attribute &attr);
// A float attribute: shortest text that reads back as the same double,
// always with '.', an exponent, inf or nan so it reads back as a float.
std::string formatDouble(double v);
// Element `i` of `t` as written inside dense<...>: shortest round-trip text
// for floats (f16/bf16 through their f32 value), `nan`/`-nan` for the
// canonical quiet NaN of the dtype and `0x...` (the raw bits) for any
// other NaN, integers in decimal, true/false for bool.
std::string formatElement(const Tensor &t, int64_t i);
// `dense<...>`: nested brackets following the shape, or one element when
// every element has the same bits (a splat) and there are at least two.
std::string printDense(const Tensor &t);

} // namespace nyx::ir
