#include "frontends/onnx/converters.h"

#include <algorithm>

namespace nyx::onnx_import {

namespace {

std::span<const std::span<const ConverterEntry>> families() {
  static const std::span<const ConverterEntry> all[] = {
      elementwiseConverters(),   shapeConverters(),  linalgConverters(),
      einsumConverters(),        convConverters(),   poolConverters(),
      normalizationConverters(), lossConverters(),   generatorConverters(),
      reductionConverters(),     resizeConverters(), rnnConverters(),
      scatterConverters()};
  return all;
}

} // namespace

const Converter *findConverter(std::string_view opType) {
  for (std::span<const ConverterEntry> family : families())
    for (const ConverterEntry &e : family)
      if (e.opType == opType)
        return &e.convert;
  return nullptr;
}

std::vector<std::string_view> supportedOpTypes() {
  std::vector<std::string_view> types;
  for (std::span<const ConverterEntry> family : families())
    for (const ConverterEntry &e : family)
      types.push_back(e.opType);
  std::sort(types.begin(), types.end());
  return types;
}

} // namespace nyx::onnx_import
