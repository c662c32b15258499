// Graphviz (DOT) drawings of a function's dataflow graph, for
// `nyxc --emit=dot` and `--emit=dot-kernels`.
#pragma once

#include <string>
#include <string_view>

#include "ir/module.h"

namespace nyx::compiler {

// One node per op, labelled with the op name and its results' names and
// types; one edge per operand, from the op (or input) that defines it.
// Inputs, params, constants and the return are drawn with their own shapes.
std::string printDot(const ir::Module &module, const ir::Function &function);

// The same graph with every kernel as a cluster: a `fusion` op becomes a
// cluster holding the ops of its kernel function, wired to the ops outside
// it; any other op that computes is a cluster of its own. Params, constants
// and the inputs stay outside the clusters.
std::string printKernelsDot(const ir::Module &module,
                            const ir::Function &function);

// `text` as the inside of a DOT double-quoted label: quotes and backslashes
// escaped, line breaks as `\n`, other control characters and bytes that are
// not UTF-8 replaced by '?'.
std::string escapeDotLabel(std::string_view text);

} // namespace nyx::compiler
