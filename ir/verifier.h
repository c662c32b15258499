// Checks the invariants every pass may rely on (docs/ir.md, "Verifier").
#pragma once

#include "absl/status/status.h"
#include "ir/module.h"

namespace nyx::ir {

// The inliner and the interpreter recurse along call chains; this bound
// keeps them far from the end of the stack.
inline constexpr int64_t kMaxCallDepth = 256;

// Returns the first violation as `file:line:col: error: ...`:
// - param and function names are unique in the module, value names within
//   a function;
// - every operand and returned value is a parameter of the same function or
//   a result of an earlier op in it (SSA in a straight-line body);
// - each op's operand count fits its definition and its shape rule accepts
//   it and yields exactly its result types (this is where `call` and
//   `param` check their callee and parameter);
// - the returned values match the declared result types in number and type;
// - no function reaches itself through calls (symbol attributes naming a
//   function are the call edges), and calls nest at most kMaxCallDepth deep.
absl::Status verifyModule(const Module &module);

} // namespace nyx::ir
