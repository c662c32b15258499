// Where the values of a compiled function live during a run, as rules that
// the memory-plan pass (which decides arena offsets) and code generation
// (which checks and uses them) must agree on. Each rule is defined once,
// here.
#pragma once

#include <cstdint>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "ir/module.h"

namespace nyx::ir {

// The attribute the memory plan leaves on every op that has results in the
// scratch arena: one byte offset per result, -1 for a result that is not in
// the arena.
inline constexpr std::string_view kArenaOffsetsAttr = "arena_offsets";

// The alignment of every buffer in the arena (and of the arena itself).
inline constexpr uint64_t kArenaAlign = 64;

// `bytes` rounded up to kArenaAlign: the room a buffer takes in the arena.
uint64_t alignedBytes(uint64_t bytes);

// True when `op` computes its results at run time into buffers (every op but
// `constant` and `param`, which are data already in the object).
bool computesResults(const Op &op);

// The outputs written in place: a value computed by an op of `f` and
// returned by `f` is written straight into the first output slot that
// returns it (value -> slot). Every other output is copied at the end of a
// run.
absl::flat_hash_map<const Value *, int> directOutputs(const Function &f);

// True when the value lives in the arena: it is computed by an op of `f`
// and not written straight into an output.
bool isArenaValue(const Value &v,
                  const absl::flat_hash_map<const Value *, int> &direct);

// When a value is needed, in op positions of `f` (its schedule): it is
// written by op `first` and last read by op `last` (`last == first` when
// nothing reads it; f.ops.size() when `f` returns it). Both ends are
// inclusive: an op reads its operands while it writes its results.
struct LiveRange {
  int64_t first = 0;
  int64_t last = 0;
};
absl::flat_hash_map<const Value *, LiveRange> liveRanges(const Function &f);

// True when result `result` of `op` may be written into the buffer that
// holds operand value `operand` (in every position where `op` reads it),
// because `op` reads each element of `operand` before it writes the same
// element of that result and reads no other element of it: an Elementwise op
// whose operand has the result's shape and element size, or a `fusion` of a
// loop-group kernel that reads the operand only through Elementwise ops of
// the operand's shape and computes no other returned value from it. Whether
// the operand is still needed after `op` is the caller's question.
bool mayWriteOver(const Module &m, const Op &op, int result,
                  const Value *operand);

} // namespace nyx::ir
