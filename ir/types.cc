#include "ir/types.h"

#include <algorithm>

#include "absl/status/status.h"
#include "ir/strings.h"

namespace nyx::ir {

std::string_view dtypeName(DType t) {
  switch (t) {
  case DType::F32:
    return "f32";
  case DType::F16:
    return "f16";
  case DType::BF16:
    return "bf16";
  case DType::F64:
    return "f64";
  case DType::I8:
    return "i8";
  case DType::I32:
    return "i32";
  case DType::I64:
    return "i64";
  case DType::Bool:
    return "bool";
  }
  return "?";
}

std::optional<DType> parseDType(std::string_view name) {
  for (DType t : kAllDTypes)
    if (dtypeName(t) == name)
      return t;
  return std::nullopt;
}

size_t dtypeSize(DType t) {
  switch (t) {
  case DType::F64:
  case DType::I64:
    return 8;
  case DType::F32:
  case DType::I32:
    return 4;
  case DType::F16:
  case DType::BF16:
    return 2;
  case DType::I8:
  case DType::Bool:
    return 1;
  }
  return 0;
}

bool isFloat(DType t) {
  return t == DType::F32 || t == DType::F16 || t == DType::BF16 ||
         t == DType::F64;
}

bool isInteger(DType t) {
  return t == DType::I8 || t == DType::I32 || t == DType::I64;
}

int64_t numElements(const Shape &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

std::vector<int64_t> rowMajorStrides(const Shape &shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (size_t i = shape.size(); i-- > 1;)
    strides[i - 1] = strides[i] * shape[i];
  return strides;
}

std::string shapeString(const Shape &shape) { return strJoin(shape, ","); }

absl::StatusOr<Shape> broadcastShapes(const Shape &a, const Shape &b) {
  size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      return absl::InvalidArgumentError(strCat("shapes [", shapeString(a),
                                               "] and [", shapeString(b),
                                               "] do not broadcast"));
    out[i] = da == 1 ? db : da;
  }
  return out;
}

absl::Status checkTensorType(const TensorType &t) {
  if (t.rank() > kMaxRank)
    return absl::InvalidArgumentError(
        strCat("tensor type of rank ", t.rank(), " has more than ", kMaxRank,
               " dimensions; expected at most ", kMaxRank));
  // Comparing against a quotient keeps the product itself from overflowing.
  bool hasZero = std::find(t.shape.begin(), t.shape.end(), 0) != t.shape.end();
  int64_t product = 1;
  for (int64_t d : t.shape) {
    if (d < 0)
      return absl::InvalidArgumentError(
          strCat("tensor type ", t.str(), " has the negative dimension ", d,
                 "; expected dimensions >= 0"));
    int64_t factor = std::max<int64_t>(d, 1);
    if (factor > kMaxElements / product)
      return absl::InvalidArgumentError(
          strCat("tensor type ", t.str(), " has ",
                 hasZero ? "dimensions whose product (zeros aside) is " : "",
                 "more than 2^", kMaxElementsLog2, hasZero ? "" : " elements",
                 "; expected at most 2^", kMaxElementsLog2));
    product *= factor;
  }
  return absl::OkStatus();
}

absl::Status checkConstantType(const TensorType &t) {
  if (absl::Status s = checkTensorType(t); !s.ok())
    return s;
  if (t.numElements() >
      kMaxConstantBytes / static_cast<int64_t>(dtypeSize(t.dtype)))
    return absl::InvalidArgumentError(
        strCat("constant of type ", t.str(), " needs ", t.numElements(), " x ",
               dtypeSize(t.dtype), " bytes; expected at most ",
               kMaxConstantBytes, " bytes (256 MiB) of constant data"));
  return absl::OkStatus();
}

std::string TensorType::str() const {
  return strCat(dtypeName(dtype), "[", shapeString(shape), "]");
}

} // namespace nyx::ir
