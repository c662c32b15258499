// Element types, shapes and tensor types of the graph IR.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace nyx::ir {

enum class DType : uint8_t { F32, F16, BF16, F64, I8, I32, I64, Bool };

inline constexpr DType kAllDTypes[] = {DType::F32, DType::F16, DType::BF16,
                                       DType::F64, DType::I8,  DType::I32,
                                       DType::I64, DType::Bool};

// The spelling used by the text format, JSON and safetensors mapping: "f32".
std::string_view dtypeName(DType t);
std::optional<DType> parseDType(std::string_view name);
size_t dtypeSize(DType t);
bool isFloat(DType t);   // f32, f16, bf16, f64
bool isInteger(DType t); // i8, i32, i64 (not bool)

using Shape = std::vector<int64_t>;

int64_t numElements(const Shape &shape);
// Row-major strides in elements.
std::vector<int64_t> rowMajorStrides(const Shape &shape);
std::string shapeString(const Shape &shape); // "2,3" (empty for a scalar)

// NumPy broadcasting of two shapes; an error names both shapes.
absl::StatusOr<Shape> broadcastShapes(const Shape &a, const Shape &b);

struct TensorType;

// Limits every tensor type keeps, so that shape arithmetic (element counts,
// strides, byte sizes, arena offsets) stays far from int64 overflow and loop
// nests stay shallow.
inline constexpr int64_t kMaxRank = 32;
inline constexpr int kMaxElementsLog2 = 48;
inline constexpr int64_t kMaxElements = int64_t(1) << kMaxElementsLog2;
// Constant data (dense literals) is held in memory and embedded in the
// object file, so it has a much smaller limit.
inline constexpr int64_t kMaxConstantBytes = int64_t(1) << 28;

// An error naming `t` when it breaks a limit above, e.g. "tensor type
// f32[4294967296,4294967296,16] has more than 2^48 elements; expected at most
// 2^48". Zero dimensions count as 1, so strides cannot overflow either.
absl::Status checkTensorType(const TensorType &t);
// checkTensorType, then an error when a constant of type `t` would need more
// than kMaxConstantBytes.
absl::Status checkConstantType(const TensorType &t);

struct TensorType {
  DType dtype = DType::F32;
  Shape shape;

  int64_t rank() const { return static_cast<int64_t>(shape.size()); }
  int64_t numElements() const { return ir::numElements(shape); }
  size_t byteSize() const { return numElements() * dtypeSize(dtype); }
  std::string str() const; // "f32[2,3]"
  bool operator==(const TensorType &) const = default;
};

} // namespace nyx::ir
