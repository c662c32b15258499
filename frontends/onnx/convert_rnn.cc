#include "frontends/onnx/converters.h"

namespace nyx::onnx_import {

std::span<const ConverterEntry> rnnConverters() { return {}; }

} // namespace nyx::onnx_import
