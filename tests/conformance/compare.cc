#include "tests/conformance/compare.h"

#include <cmath>
#include <limits>
#include <sstream>

#include "ir/strings.h"

namespace nyx::conformance {

namespace {

// "[1,0,2]" for flat index `i` of `shape`.
std::string indexText(const ir::Shape &shape, int64_t i) {
  std::vector<int64_t> index(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    index[d] = shape[d] ? i % shape[d] : 0;
    i = shape[d] ? i / shape[d] : 0;
  }
  return strCat("[", strJoin(index, ","), "]");
}

std::string valueText(double v) {
  std::ostringstream os;
  os.precision(std::numeric_limits<float>::max_digits10);
  os << v;
  return os.str();
}

bool floatClose(double got, double want, const Tolerance &tol) {
  if (std::isnan(got) || std::isnan(want))
    return std::isnan(got) && std::isnan(want);
  if (std::isinf(got) || std::isinf(want))
    return got == want;
  return std::fabs(got - want) <= tol.atol + tol.rtol * std::fabs(want);
}

} // namespace

Comparison compareTensors(const ir::Tensor &got, const ir::Tensor &want,
                          const Tolerance &tolerance) {
  Comparison c;
  if (got.type() != want.type()) {
    c.ok = false;
    c.message =
        strCat("has type ", got.type().str(), "; expected ", want.type().str());
    return c;
  }
  bool isFloat = ir::isFloat(want.dtype());
  int64_t first = -1;
  for (int64_t i = 0; i < want.numElements(); ++i) {
    bool ok;
    if (isFloat) {
      double g = got.getDouble(i), w = want.getDouble(i);
      ok = floatClose(g, w, tolerance);
      if (std::isfinite(g) && std::isfinite(w))
        c.maxAbsError = std::max(c.maxAbsError, std::fabs(g - w));
    } else {
      ok = got.getInt(i) == want.getInt(i);
    }
    if (!ok) {
      ++c.mismatches;
      if (first < 0)
        first = i;
    }
  }
  if (c.mismatches == 0)
    return c;
  c.ok = false;
  std::string gotText =
      isFloat ? valueText(got.getDouble(first)) : strCat(got.getInt(first));
  std::string wantText =
      isFloat ? valueText(want.getDouble(first)) : strCat(want.getInt(first));
  c.message = strCat(c.mismatches, " of ", want.numElements(), " elements of ",
                     want.type().str(), " differ");
  if (isFloat)
    c.message += strCat(" (rtol ", tolerance.rtol, ", atol ", tolerance.atol,
                        "; max abs error ", valueText(c.maxAbsError), ")");
  c.message += strCat("; first at ", indexText(want.shape(), first), ": got ",
                      gotText, ", expected ", wantText);
  return c;
}

} // namespace nyx::conformance
