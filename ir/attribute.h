// Op attributes: small typed constants attached to an op by name.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "ir/tensor.h"
#include "ir/types.h"

namespace nyx::ir {

// A reference to a function by name, written `@name`.
struct SymbolRef {
  std::string name;
  bool operator==(const SymbolRef &) const = default;
};

// Text syntax of each alternative, in order:
//   42 | 1.5 (always with '.', 'e', "inf" or "nan") | true | "str" |
//   [1, 2] | [1.5, 2.0] | f16 | @f | dense<...>
using Attribute = std::variant<int64_t, double, bool, std::string,
                               std::vector<int64_t>, std::vector<double>, DType,
                               SymbolRef, std::shared_ptr<const Tensor>>;

// Ordered so the printer is deterministic.
using Attributes = std::map<std::string, Attribute, std::less<>>;

} // namespace nyx::ir
