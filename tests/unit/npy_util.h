// A small .npy reader for tests: little-endian, C order, the dtypes the
// golden data uses. Test-only; the runtime has its own reader.
#pragma once

#include <cstdint>
#include <fstream>
#include <iterator>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ir/strings.h"
#include "ir/tensor.h"

namespace nyx::test {

struct NpyArray {
  std::string descr; // "<f4", "|b1", ...
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;
};

inline absl::StatusOr<NpyArray> readNpy(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return absl::NotFoundError(strCat("cannot open ", path));
  std::string bytes((std::istreambuf_iterator<char>(in)),
                    std::istreambuf_iterator<char>());
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0)
    return absl::InvalidArgumentError(strCat(path, " is not a .npy file"));
  const int major = static_cast<uint8_t>(bytes[6]);
  size_t headerLen, headerStart;
  if (major == 1) {
    headerLen = static_cast<uint8_t>(bytes[8]) |
                (static_cast<size_t>(static_cast<uint8_t>(bytes[9])) << 8);
    headerStart = 10;
  } else {
    headerLen = 0;
    for (int i = 0; i < 4; ++i)
      headerLen |= static_cast<size_t>(static_cast<uint8_t>(bytes[8 + i]))
                   << (8 * i);
    headerStart = 12;
  }
  if (bytes.size() < headerStart + headerLen)
    return absl::InvalidArgumentError(strCat(path, " has a short header"));
  const std::string header = bytes.substr(headerStart, headerLen);
  NpyArray a;
  std::smatch m;
  if (!std::regex_search(header, m, std::regex("'descr':\\s*'([^']*)'")))
    return absl::InvalidArgumentError(strCat(path, " has no descr"));
  a.descr = m[1];
  if (header.find("'fortran_order': False") == std::string::npos)
    return absl::InvalidArgumentError(strCat(path, " is not in C order"));
  if (!std::regex_search(header, m, std::regex("'shape':\\s*\\(([^)]*)\\)")))
    return absl::InvalidArgumentError(strCat(path, " has no shape"));
  std::string dims = m[1];
  std::regex num("[0-9]+");
  for (auto it = std::sregex_iterator(dims.begin(), dims.end(), num);
       it != std::sregex_iterator(); ++it)
    a.shape.push_back(std::stoll(it->str()));
  a.data.assign(bytes.begin() +
                    static_cast<std::ptrdiff_t>(headerStart + headerLen),
                bytes.end());
  return a;
}

// The dtype a descr stores, given the dtype the reader expects (bf16 is
// stored as raw '<u2' bit patterns, so the expectation decides).
inline std::optional<ir::DType> npyDType(const std::string &descr,
                                         ir::DType expected) {
  if (descr == "<f4")
    return ir::DType::F32;
  if (descr == "<f8")
    return ir::DType::F64;
  if (descr == "<f2")
    return ir::DType::F16;
  if (descr == "<u2" && expected == ir::DType::BF16)
    return ir::DType::BF16;
  if (descr == "|i1")
    return ir::DType::I8;
  if (descr == "<i4")
    return ir::DType::I32;
  if (descr == "<i8")
    return ir::DType::I64;
  if (descr == "|b1")
    return ir::DType::Bool;
  return std::nullopt;
}

// Reads a .npy file into a tensor that must have type `expected`.
inline absl::StatusOr<ir::Tensor>
readNpyTensor(const std::string &path, const ir::TensorType &expected) {
  auto a = readNpy(path);
  if (!a.ok())
    return a.status();
  auto dtype = npyDType(a->descr, expected.dtype);
  ir::TensorType type{dtype.value_or(expected.dtype), a->shape};
  if (!dtype || type != expected)
    return absl::InvalidArgumentError(strCat(path, " holds ", a->descr, " [",
                                             ir::shapeString(a->shape),
                                             "]; expected ", expected.str()));
  ir::Tensor t(type);
  if (a->data.size() != t.byteSize())
    return absl::InvalidArgumentError(strCat(
        path, " has ", a->data.size(), " data bytes; expected ", t.byteSize()));
  std::copy(a->data.begin(), a->data.end(), t.bytes());
  return t;
}

} // namespace nyx::test
