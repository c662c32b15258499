#include "frontends/onnx/converters.h"

namespace nyx::onnx_import {

std::span<const ConverterEntry> nnConverters() { return {}; }

} // namespace nyx::onnx_import
