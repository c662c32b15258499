// A dense host tensor: the value the interpreter computes with and the
// payload of constants and weights.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "ir/types.h"

namespace nyx::ir {

// Float to integer as `cast` defines it (docs/ops.md): truncates toward
// zero, saturates at the range of `to` (i8, i32, i64), NaN becomes 0.
int64_t floatToInteger(double v, DType to);

// The bits of the quiet NaN that the text form writes as `nan` for a float
// dtype (sign clear), in the low bits of the result.
uint64_t canonicalNaNBits(DType t);

class Tensor {
public:
  Tensor() = default;
  explicit Tensor(TensorType type); // zero-filled

  const TensorType &type() const { return type_; }
  DType dtype() const { return type_.dtype; }
  const Shape &shape() const { return type_.shape; }
  int64_t numElements() const { return type_.numElements(); }
  size_t byteSize() const { return bytes_.size(); }

  uint8_t *bytes() { return bytes_.data(); }
  const uint8_t *bytes() const { return bytes_.data(); }
  template <class T> T *data() { return reinterpret_cast<T *>(bytes_.data()); }
  template <class T> const T *data() const {
    return reinterpret_cast<const T *>(bytes_.data());
  }

  // Element access through a wide type, so kernels can be written once for
  // every dtype. setDouble rounds to the element type (nearest even for
  // floats; float to integer truncates toward zero and saturates, NaN -> 0).
  double getDouble(int64_t i) const;
  void setDouble(int64_t i, double v);
  int64_t getInt(int64_t i) const;
  void setInt(int64_t i, int64_t v); // wraps like a C cast for narrow ints

  // True when every element has the same bits as the first (and there is
  // at least one): such a constant is one scalar wherever it is read.
  bool isSplat() const;

  bool operator==(const Tensor &o) const {
    return type_ == o.type_ && bytes_ == o.bytes_;
  }

private:
  TensorType type_;
  std::vector<uint8_t> bytes_;
};

} // namespace nyx::ir
