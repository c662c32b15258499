// The converter tables, one per family of ONNX ops; findConverter
// (converters.cc) looks an op type up in all of them. Each table lists its
// op types in the file that converts them.
#pragma once

#include <span>
#include <string_view>

#include "frontends/onnx/node_context.h"

namespace nyx::onnx_import {

struct ConverterEntry {
  std::string_view opType;
  Converter convert;
};

// convert_elementwise.cc: unary and binary math, activations, comparisons,
// logic, Cast, Clip, Where, variadic Sum/Mean/Max/Min.
std::span<const ConverterEntry> elementwiseConverters();
// convert_shape.cc: Constant, Shape, Reshape, Transpose, Concat, Slice,
// Gather, Split, Squeeze/Unsqueeze, Flatten, Expand, Tile, Pad, Identity...
std::span<const ConverterEntry> shapeConverters();
// convert_linalg.cc: MatMul, Gemm.
std::span<const ConverterEntry> linalgConverters();
// convert_einsum.cc: Einsum.
std::span<const ConverterEntry> einsumConverters();
// convert_conv.cc: Conv, ConvTranspose.
std::span<const ConverterEntry> convConverters();
// convert_pool.cc: MaxPool, AveragePool, GlobalMaxPool, GlobalAveragePool.
std::span<const ConverterEntry> poolConverters();
// convert_normalization.cc: BatchNormalization, InstanceNormalization,
// LayerNormalization, MeanVarianceNormalization, LRN, Softmax, LogSoftmax,
// Hardmax, Dropout, PRelu.
std::span<const ConverterEntry> normalizationConverters();
// convert_loss.cc: NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss.
std::span<const ConverterEntry> lossConverters();
// convert_generators.cc: Trilu, OneHot, EyeLike.
std::span<const ConverterEntry> generatorConverters();
// convert_reduction.cc: Reduce*, ArgMax/ArgMin, CumSum, TopK.
std::span<const ConverterEntry> reductionConverters();
// convert_resize.cc: Resize and Upsample.
std::span<const ConverterEntry> resizeConverters();
// convert_rnn.cc: RNN, GRU and LSTM, unrolled over the static sequence.
std::span<const ConverterEntry> rnnConverters();
// convert_scatter.cc: GatherND, ScatterElements (and Scatter), ScatterND.
std::span<const ConverterEntry> scatterConverters();

} // namespace nyx::onnx_import
