// Comparing a computed tensor with a reference one, for every test that
// checks numbers: floats within a tolerance, everything else exactly.
#pragma once

#include <cmath>
#include <optional>
#include <sstream>

#include "ir/tensor.h"
#include "gtest/gtest.h"

namespace nyx::test {

struct Tolerance {
  double rtol, atol;
};

// f32 code computes in f32 while the interpreter rounds once from f64;
// f16/bf16 compute in f32 and round once, so allow about two units in the
// last place of the storage type.
inline Tolerance defaultTolerance(ir::DType t) {
  switch (t) {
  case ir::DType::F64:
    return {1e-12, 1e-12};
  case ir::DType::F32:
    return {2e-5, 1e-6};
  case ir::DType::F16:
    return {2e-3, 1e-3};
  case ir::DType::BF16:
    return {1.6e-2, 1e-2};
  default:
    return {0, 0};
  }
}

// Compares one output element by element; NaN must meet NaN, infinities
// must match exactly, integers and bools must be equal.
inline ::testing::AssertionResult
tensorsMatch(const ir::Tensor &got, const ir::Tensor &want,
             std::optional<double> rtol = {}, std::optional<double> atol = {}) {
  if (got.type() != want.type())
    return ::testing::AssertionFailure()
           << "type " << got.type().str() << " expected " << want.type().str();
  Tolerance tol = defaultTolerance(want.dtype());
  if (rtol)
    tol.rtol = *rtol;
  if (atol)
    tol.atol = *atol;
  int64_t bad = 0;
  std::ostringstream first;
  for (int64_t i = 0; i < want.numElements(); ++i) {
    bool ok;
    if (ir::isFloat(want.dtype())) {
      double g = got.getDouble(i), w = want.getDouble(i);
      if (std::isnan(w) || std::isnan(g))
        ok = std::isnan(w) && std::isnan(g);
      else if (std::isinf(w) || std::isinf(g))
        ok = g == w;
      else
        ok = std::fabs(g - w) <= tol.atol + tol.rtol * std::fabs(w);
      if (!ok && bad < 8)
        first << "\n  [" << i << "] got " << g << " expected " << w;
    } else {
      ok = got.getInt(i) == want.getInt(i);
      if (!ok && bad < 8)
        first << "\n  [" << i << "] got " << got.getInt(i) << " expected "
              << want.getInt(i);
    }
    bad += !ok;
  }
  if (bad == 0)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << bad << " of " << want.numElements() << " elements of "
         << want.type().str() << " differ (rtol " << tol.rtol << ", atol "
         << tol.atol << "):" << first.str();
}

} // namespace nyx::test
