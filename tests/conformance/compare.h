// Compares an output with the backend test's expected tensor the way
// onnx/backend/test/runner does (numpy.testing.assert_allclose): floats pass
// when |got - want| <= atol + rtol * |want|, NaN equals NaN, infinities
// must be equal; integers and bools must be equal.
#pragma once

#include <string>

#include "ir/tensor.h"

namespace nyx::conformance {

struct Tolerance {
  // onnx/backend/test/runner's defaults (a `real` model's data.json may
  // give others).
  double rtol = 1e-3;
  double atol = 1e-7;
};

struct Comparison {
  bool ok = true;
  int64_t mismatches = 0;
  double maxAbsError = 0; // over the float elements that are finite in both
  // Says what differs: the types, or the number of elements out of
  // tolerance, the largest error and the first mismatch. Empty when ok.
  std::string message;
};

Comparison compareTensors(const ir::Tensor &got, const ir::Tensor &want,
                          const Tolerance &tolerance);

} // namespace nyx::conformance
