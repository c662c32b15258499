#include "frontends/onnx/tensor_proto.h"

#include <cstring>
#include <filesystem>
#include <fstream>

#include "ir/strings.h"
#include "onnx/onnx_pb.h"

namespace nyx::onnx_import {

using onnx::TensorProto;

absl::StatusOr<ir::DType> dtypeFromOnnx(int32_t elemType) {
  switch (elemType) {
  case TensorProto::FLOAT:
    return ir::DType::F32;
  case TensorProto::FLOAT16:
    return ir::DType::F16;
  case TensorProto::BFLOAT16:
    return ir::DType::BF16;
  case TensorProto::DOUBLE:
    return ir::DType::F64;
  case TensorProto::INT8:
    return ir::DType::I8;
  case TensorProto::INT32:
    return ir::DType::I32;
  case TensorProto::INT64:
    return ir::DType::I64;
  case TensorProto::BOOL:
    return ir::DType::Bool;
  default:
    return absl::UnimplementedError(
        strCat("element type ", onnxTypeName(elemType),
               " (expected float, float16, bfloat16, double, int8, int32, "
               "int64 or bool)"));
  }
}

std::string onnxTypeName(int32_t elemType) {
  if (!TensorProto::DataType_IsValid(elemType))
    return strCat("#", elemType);
  std::string name =
      TensorProto::DataType_Name(static_cast<TensorProto::DataType>(elemType));
  for (char &c : name)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

namespace {

// The number of values in the typed repeated field that holds `type`'s
// dtype in a TensorProto: int32_data carries int8, bool, float16 and
// bfloat16 (as their bits), and int32; int64_data int64; float_data float;
// double_data double.
int64_t typedCount(const TensorProto &p, ir::DType dtype) {
  switch (dtype) {
  case ir::DType::F32:
    return p.float_data_size();
  case ir::DType::F64:
    return p.double_data_size();
  case ir::DType::I64:
    return p.int64_data_size();
  default:
    return p.int32_data_size();
  }
}

absl::Status checkTypedCount(const TensorProto &p, const ir::TensorType &type) {
  int64_t have = typedCount(p, type.dtype);
  if (have == type.numElements())
    return absl::OkStatus();
  return absl::InvalidArgumentError(
      strCat("tensor '", p.name(), "' holds ", have, " values; its shape ",
             type.str(), " needs ", type.numElements()));
}

void copyTypedData(const TensorProto &p, ir::Tensor &t) {
  int64_t n = t.numElements();
  if (n == 0) // an empty repeated field has no data pointer
    return;
  switch (t.dtype()) {
  case ir::DType::F32:
    std::memcpy(t.bytes(), p.float_data().data(), n * sizeof(float));
    return;
  case ir::DType::F64:
    std::memcpy(t.bytes(), p.double_data().data(), n * sizeof(double));
    return;
  case ir::DType::I64:
    std::memcpy(t.bytes(), p.int64_data().data(), n * sizeof(int64_t));
    return;
  default: {
    size_t size = ir::dtypeSize(t.dtype());
    for (int64_t i = 0; i < n; ++i) {
      int32_t v = p.int32_data(static_cast<int>(i));
      std::memcpy(t.bytes() + i * size, &v, size); // little-endian low bits
    }
  }
  }
}

// Any non-zero byte of a bool is true.
void normalizeBools(ir::Tensor &t) {
  if (t.dtype() == ir::DType::Bool)
    for (size_t i = 0; i < t.byteSize(); ++i)
      t.bytes()[i] = t.bytes()[i] != 0;
}

absl::StatusOr<std::string> readExternalData(const TensorProto &p,
                                             const std::string &baseDir,
                                             size_t bytes) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto &entry : p.external_data()) {
    if (entry.key() == "location")
      location = entry.value();
    else if (entry.key() == "offset" || entry.key() == "length") {
      char *end = nullptr;
      long long v = std::strtoll(entry.value().c_str(), &end, 10);
      if (entry.value().empty() || *end != '\0' || v < 0)
        return absl::InvalidArgumentError(
            strCat("tensor '", p.name(), "' has external data ", entry.key(),
                   " '", entry.value(), "'; expected a non-negative integer"));
      (entry.key() == "offset" ? offset : length) = v;
    }
  }
  std::filesystem::path rel(location);
  if (location.empty() || rel.is_absolute() ||
      rel.lexically_normal().string().starts_with(".."))
    return absl::InvalidArgumentError(
        strCat("tensor '", p.name(), "' has external data location '", location,
               "'; expected a path relative to the model's folder"));
  std::string path = (std::filesystem::path(baseDir) / rel).string();
  if (length >= 0 && static_cast<size_t>(length) != bytes)
    return absl::InvalidArgumentError(
        strCat("tensor '", p.name(), "' has external data of ", length,
               " bytes; its shape needs ", bytes));
  std::error_code ec;
  uintmax_t fileSize = std::filesystem::file_size(path, ec);
  std::ifstream in(path, std::ios::binary);
  if (ec || !in)
    return absl::NotFoundError(strCat("tensor '", p.name(),
                                      "': cannot read external data file '",
                                      path, "'"));
  if (static_cast<uintmax_t>(offset) > fileSize ||
      fileSize - static_cast<uintmax_t>(offset) < bytes)
    return absl::InvalidArgumentError(
        strCat("tensor '", p.name(), "': external data file '", path,
               "' ends before ", bytes, " bytes at offset ", offset));
  std::string data(bytes, '\0');
  in.seekg(offset);
  in.read(data.data(), static_cast<std::streamsize>(bytes));
  if (!in || static_cast<size_t>(in.gcount()) != bytes)
    return absl::InvalidArgumentError(
        strCat("tensor '", p.name(), "': external data file '", path,
               "' ends before ", bytes, " bytes at offset ", offset));
  return data;
}

} // namespace

absl::StatusOr<ir::Tensor> tensorFromProto(const TensorProto &p,
                                           const std::string &baseDir) {
  auto dtype = dtypeFromOnnx(p.data_type());
  if (!dtype.ok())
    return absl::Status(
        dtype.status().code(),
        strCat("tensor '", p.name(), "' has ", dtype.status().message()));
  ir::TensorType type{*dtype, {}};
  for (int64_t d : p.dims()) {
    if (d < 0)
      return absl::InvalidArgumentError(strCat("tensor '", p.name(),
                                               "' has dimension ", d,
                                               "; expected sizes >= 0"));
    type.shape.push_back(d);
  }
  if (absl::Status s = ir::checkTensorType(type); !s.ok())
    return absl::InvalidArgumentError(
        strCat("tensor '", p.name(), "': ", s.message()));
  if (p.has_segment())
    return absl::UnimplementedError(
        strCat("tensor '", p.name(), "' is segmented"));
  // Payload sizes are checked before the tensor is allocated, so a shape
  // that promises more data than the file holds is an error, not an
  // allocation of that size.
  size_t bytes = type.byteSize();
  if (p.data_location() == TensorProto::EXTERNAL) {
    auto data = readExternalData(p, baseDir, bytes);
    if (!data.ok())
      return data.status();
    ir::Tensor t(type);
    if (bytes > 0)
      std::memcpy(t.bytes(), data->data(), bytes);
    normalizeBools(t);
    return t;
  }
  if (p.has_raw_data()) {
    if (p.raw_data().size() != bytes)
      return absl::InvalidArgumentError(strCat(
          "tensor '", p.name(), "' has ", p.raw_data().size(),
          " bytes of raw data; its shape ", type.str(), " needs ", bytes));
    ir::Tensor t(type);
    if (bytes > 0)
      std::memcpy(t.bytes(), p.raw_data().data(), bytes);
    normalizeBools(t);
    return t;
  }
  if (absl::Status s = checkTypedCount(p, type); !s.ok())
    return s;
  ir::Tensor t(type);
  copyTypedData(p, t);
  normalizeBools(t);
  return t;
}

absl::StatusOr<ir::Tensor> readTensorFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return absl::NotFoundError(strCat(path, ": error: cannot read the file"));
  TensorProto proto;
  if (!proto.ParseFromIstream(&in))
    return absl::InvalidArgumentError(
        strCat(path, ": error: not a serialized ONNX TensorProto"));
  auto t = tensorFromProto(proto, std::filesystem::path(path).parent_path());
  if (!t.ok())
    return absl::Status(t.status().code(),
                        strCat(path, ": error: ", t.status().message()));
  return t;
}

} // namespace nyx::onnx_import
