// Small IR-building helpers shared by the converter families: reshapes,
// transposes and slices that skip no-ops, casts, index constants, and the
// float-only dtype check.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "frontends/onnx/node_context.h"

namespace nyx::onnx_import {

// "[1, 2, 3]", for messages.
std::string listString(const std::vector<int64_t> &v);

// The product of shape[begin, end).
int64_t product(const ir::Shape &shape, size_t begin, size_t end);

// The axes first, first + 1, ..., rank - 1.
std::vector<int64_t> allAxesFrom(int64_t first, int64_t rank);

// x reshaped to `shape`; x itself when it has that shape already.
ir::Value *reshape(NodeContext &n, ir::Value *x, ir::Shape shape);

// x transposed by `perm`; x itself when `perm` is the identity.
ir::Value *transpose(NodeContext &n, ir::Value *x, std::vector<int64_t> perm);

// x[start:end:step] along `axis`.
ir::Value *sliceAxis(NodeContext &n, ir::Value *x, int64_t axis, int64_t start,
                     int64_t end, int64_t step = 1);

// x cast to `dtype`; x itself when it has that dtype already (or is null).
ir::Value *castTo(NodeContext &n, ir::Value *x, ir::DType dtype);

// A rank-`rank` i64 (or `dtype`) tensor 0, 1, ..., size-1 laid along `axis`
// with size-1 axes elsewhere, to compare indices against.
ir::Value *iotaAlong(NodeContext &n, int64_t size, int64_t axis, int64_t rank,
                     ir::DType dtype = ir::DType::I64);

// The i64 scalar constant v.
ir::Value *int64Scalar(NodeContext &n, int64_t v);

// Records "unsupported: dtype X" for an op that the IR defines on floats
// only; true when x is a float.
bool requireFloat(NodeContext &n, const ir::Value *x);

} // namespace nyx::onnx_import
