#include "ir/tensor.h"

#include <cstring>

#include <cmath>
#include <limits>

#include "ir/half.h"

namespace nyx::ir {

Tensor::Tensor(TensorType type)
    : type_(std::move(type)), bytes_(type_.byteSize(), 0) {}

template <class T> static T load(const uint8_t *p, int64_t i) {
  T v;
  std::memcpy(&v, p + i * sizeof(T), sizeof(T));
  return v;
}

template <class T> static void store(uint8_t *p, int64_t i, T v) {
  std::memcpy(p + i * sizeof(T), &v, sizeof(T));
}

template <class T> static T saturate(double v) {
  if (std::isnan(v))
    return 0;
  if (v <= static_cast<double>(std::numeric_limits<T>::min()))
    return std::numeric_limits<T>::min();
  if (v >= static_cast<double>(std::numeric_limits<T>::max()))
    return std::numeric_limits<T>::max();
  return static_cast<T>(v); // truncates toward zero
}

int64_t floatToInteger(double v, DType to) {
  switch (to) {
  case DType::I8:
    return saturate<int8_t>(v);
  case DType::I32:
    return saturate<int32_t>(v);
  default:
    return saturate<int64_t>(v);
  }
}

uint64_t canonicalNaNBits(DType t) {
  switch (t) {
  case DType::F16:
    return 0x7E00;
  case DType::BF16:
    return 0x7FC0;
  case DType::F64:
    return 0x7FF8000000000000ull;
  default:
    return 0x7FC00000;
  }
}

double Tensor::getDouble(int64_t i) const {
  const uint8_t *p = bytes_.data();
  switch (dtype()) {
  case DType::F32:
    return load<float>(p, i);
  case DType::F16:
    return halfToFloat(load<uint16_t>(p, i));
  case DType::BF16:
    return bf16ToFloat(load<uint16_t>(p, i));
  case DType::F64:
    return load<double>(p, i);
  case DType::I8:
    return load<int8_t>(p, i);
  case DType::I32:
    return load<int32_t>(p, i);
  case DType::I64:
    return static_cast<double>(load<int64_t>(p, i));
  case DType::Bool:
    return load<uint8_t>(p, i) ? 1.0 : 0.0;
  }
  return 0;
}

void Tensor::setDouble(int64_t i, double v) {
  uint8_t *p = bytes_.data();
  switch (dtype()) {
  case DType::F32:
    store<float>(p, i, static_cast<float>(v));
    return;
  case DType::F16:
    store<uint16_t>(p, i, floatToHalf(static_cast<float>(v)));
    return;
  case DType::BF16:
    store<uint16_t>(p, i, floatToBf16(static_cast<float>(v)));
    return;
  case DType::F64:
    store<double>(p, i, v);
    return;
  case DType::I8:
    store<int8_t>(p, i, saturate<int8_t>(v));
    return;
  case DType::I32:
    store<int32_t>(p, i, saturate<int32_t>(v));
    return;
  case DType::I64:
    store<int64_t>(p, i, saturate<int64_t>(v));
    return;
  case DType::Bool:
    store<uint8_t>(p, i, v != 0.0 ? 1 : 0);
    return;
  }
}

int64_t Tensor::getInt(int64_t i) const {
  const uint8_t *p = bytes_.data();
  switch (dtype()) {
  case DType::I8:
    return load<int8_t>(p, i);
  case DType::I32:
    return load<int32_t>(p, i);
  case DType::I64:
    return load<int64_t>(p, i);
  case DType::Bool:
    return load<uint8_t>(p, i) ? 1 : 0;
  default:
    return saturate<int64_t>(getDouble(i));
  }
}

void Tensor::setInt(int64_t i, int64_t v) {
  uint8_t *p = bytes_.data();
  switch (dtype()) {
  case DType::I8:
    store<int8_t>(p, i, static_cast<int8_t>(v));
    return;
  case DType::I32:
    store<int32_t>(p, i, static_cast<int32_t>(v));
    return;
  case DType::I64:
    store<int64_t>(p, i, v);
    return;
  case DType::Bool:
    store<uint8_t>(p, i, v != 0 ? 1 : 0);
    return;
  default:
    setDouble(i, static_cast<double>(v));
    return;
  }
}

bool Tensor::isSplat() const {
  if (bytes_.empty())
    return false;
  size_t width = bytes_.size() / static_cast<size_t>(numElements());
  for (size_t at = width; at < bytes_.size(); at += width)
    if (std::memcmp(&bytes_[at], bytes_.data(), width) != 0)
      return false;
  return true;
}

} // namespace nyx::ir
