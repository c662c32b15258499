#include "ir/ops/op_helpers.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "ir/buffer_rules.h"
#include "ir/half.h"
#include "ir/printer.h"
#include "ir/strings.h"

namespace nyx::ir::ops {

absl::Status opError(const Op &op, std::string_view message) {
  return absl::InvalidArgumentError(strCat("'", op.name(), "' ", message));
}

absl::Status checkOperandCount(const Op &op) {
  const OpDef &def = *op.def;
  int n = op.numOperands();
  if (def.maxOperands == def.minOperands && n != def.minOperands)
    return opError(op, strCat("has ", n, " operand", n == 1 ? "" : "s",
                              "; expected ", def.minOperands));
  if (n < def.minOperands)
    return opError(op, strCat("has ", n, " operand", n == 1 ? "" : "s",
                              "; expected at least ", def.minOperands));
  if (def.maxOperands >= 0 && n > def.maxOperands)
    return opError(
        op, strCat("has ", n, " operands; expected at most ", def.maxOperands));
  return absl::OkStatus();
}

// The ops that take kScheduleAttr, a string whose contents code generation
// checks.
static bool takesSchedule(const Op &op) {
  return op.name() == "matmul" || op.name() == "conv2d";
}

absl::Status checkAttrNames(const Op &op,
                            std::initializer_list<std::string_view> allowed) {
  for (const auto &[name, value] : op.attrs) {
    // The memory plan's annotation may sit on any op.
    if (std::find(allowed.begin(), allowed.end(), name) != allowed.end() ||
        name == kArenaOffsetsAttr)
      continue;
    if (name == kScheduleAttr && takesSchedule(op)) {
      if (!std::holds_alternative<std::string>(value))
        return opError(op,
                       strCat("attribute 'schedule' is ", printAttribute(value),
                              "; expected a string such as "
                              "\"mr=6,nr=64,mc=96,nc=256,pack_a=1\""));
      continue;
    }
    std::string takes = allowed.size() == 0
                            ? std::string("it takes no attributes")
                            : strCat("it takes: ", strJoin(allowed, ", "));
    return opError(op, strCat("has no attribute '", name, "'; ", takes));
  }
  return absl::OkStatus();
}

absl::Status
checkOpBasics(const Op &op,
              std::initializer_list<std::string_view> allowedAttrs) {
  NYX_RETURN_IF_ERROR(checkOperandCount(op));
  return checkAttrNames(op, allowedAttrs);
}

bool inClass(DType t, DTypeClass c) {
  switch (c) {
  case DTypeClass::Float:
    return isFloat(t);
  case DTypeClass::Integer:
    return isInteger(t);
  case DTypeClass::Numeric:
    return isFloat(t) || isInteger(t);
  case DTypeClass::Any:
    return true;
  }
  return false;
}

std::string classDescription(DTypeClass c) {
  std::vector<std::string_view> names;
  for (DType t : kAllDTypes)
    if (inClass(t, c))
      names.push_back(dtypeName(t));
  std::string_view kind = c == DTypeClass::Float     ? "a float"
                          : c == DTypeClass::Integer ? "an integer"
                          : c == DTypeClass::Numeric ? "a numeric"
                                                     : "any";
  return strCat(kind, " dtype (", strJoin(names, ", "), ")");
}

static std::string operandLabel(const Op &op, int index) {
  return op.numOperands() == 1 ? std::string("operand")
                               : strCat("operand ", index);
}

absl::Status checkOperandDType(const Op &op, int index, DTypeClass c) {
  DType t = op.operand(index)->type.dtype;
  if (inClass(t, c))
    return absl::OkStatus();
  return opError(op, strCat(operandLabel(op, index), " has dtype ",
                            dtypeName(t), "; expected ", classDescription(c)));
}

absl::Status checkOperandIsDType(const Op &op, int index, DType want) {
  DType t = op.operand(index)->type.dtype;
  if (t == want)
    return absl::OkStatus();
  return opError(op, strCat(operandLabel(op, index), " has dtype ",
                            dtypeName(t), "; expected ", dtypeName(want)));
}

absl::Status checkSameDType(const Op &op, int a, int b) {
  DType ta = op.operand(a)->type.dtype, tb = op.operand(b)->type.dtype;
  if (ta == tb)
    return absl::OkStatus();
  return opError(op, strCat("operands have dtypes ", dtypeName(ta), " and ",
                            dtypeName(tb), "; expected the same dtype"));
}

absl::StatusOr<Shape> broadcastOperandShapes(const Op &op,
                                             std::span<const int> operands) {
  Shape out;
  for (int i : operands) {
    const Shape &s = op.operand(i)->type.shape;
    auto b = broadcastShapes(out, s);
    if (!b.ok()) {
      std::vector<std::string> shapes;
      for (int j : operands)
        shapes.push_back(
            strCat("[", shapeString(op.operand(j)->type.shape), "]"));
      return opError(op, strCat("operand shapes ", strJoin(shapes, " and "),
                                " do not broadcast"));
    }
    out = *b;
  }
  return out;
}

absl::Status checkMinRank(const Op &op, int index, int64_t minRank) {
  int64_t rank = op.operand(index)->type.rank();
  if (rank >= minRank)
    return absl::OkStatus();
  return opError(op, strCat(operandLabel(op, index), " has rank ", rank,
                            "; expected rank >= ", minRank));
}

absl::StatusOr<int64_t> normalizeAxis(const Op &op, int64_t axis,
                                      int64_t rank) {
  if (axis < -rank || axis >= rank)
    return opError(op,
                   strCat("axis ", axis, " is out of range for rank ", rank));
  return axis < 0 ? axis + rank : axis;
}

absl::StatusOr<std::vector<int64_t>>
normalizeAxes(const Op &op, const std::vector<int64_t> &axes, int64_t rank) {
  std::vector<int64_t> out;
  for (int64_t a : axes) {
    NYX_ASSIGN_OR_RETURN(int64_t n, normalizeAxis(op, a, rank));
    if (std::find(out.begin(), out.end(), n) != out.end())
      return opError(op, strCat("axis ", a, " is listed twice"));
    out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

absl::StatusOr<std::string>
getEnumAttr(const Op &op, std::string_view attr, std::string_view dflt,
            std::initializer_list<std::string_view> choices) {
  NYX_ASSIGN_OR_RETURN(std::string v, op.getString(attr, std::string(dflt)));
  if (std::find(choices.begin(), choices.end(), v) != choices.end())
    return v;
  std::vector<std::string> quoted;
  for (std::string_view c : choices)
    quoted.push_back(strCat("\"", c, "\""));
  return opError(op, strCat("attribute '", attr, "' is \"", v,
                            "\"; expected one of ", strJoin(quoted, ", ")));
}

std::vector<int64_t> broadcastStrides(const Shape &in, const Shape &out) {
  std::vector<int64_t> inStrides = rowMajorStrides(in);
  std::vector<int64_t> strides(out.size(), 0);
  size_t lead = out.size() - in.size();
  for (size_t d = 0; d < in.size(); ++d)
    strides[lead + d] = in[d] == 1 ? 0 : inStrides[d];
  return strides;
}

ReductionLayout reductionShapes(const Shape &shape,
                                const std::vector<int64_t> &sortedAxes) {
  ReductionLayout l;
  int64_t reducedCount = 1;
  for (size_t d = 0; d < shape.size(); ++d) {
    bool reduced = std::binary_search(sortedAxes.begin(), sortedAxes.end(),
                                      static_cast<int64_t>(d));
    l.keptDimsShape.push_back(reduced ? 1 : shape[d]);
    if (reduced)
      reducedCount *= shape[d];
    else
      l.keptShape.push_back(shape[d]);
  }
  l.reducedCount = reducedCount;
  return l;
}

ReductionLayout reductionLayout(const Shape &shape,
                                const std::vector<int64_t> &sortedAxes) {
  ReductionLayout l = reductionShapes(shape, sortedAxes);
  std::vector<int64_t> strides = rowMajorStrides(shape);
  Shape reducedShape, keptStrides, reducedStrides;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (std::binary_search(sortedAxes.begin(), sortedAxes.end(),
                           static_cast<int64_t>(d))) {
      reducedShape.push_back(shape[d]);
      reducedStrides.push_back(strides[d]);
    } else {
      keptStrides.push_back(strides[d]);
    }
  }
  auto offsets = [](const Shape &s, const std::vector<int64_t> &st) {
    std::vector<int64_t> out;
    out.reserve(numElements(s));
    forEachIndex(s, [&](std::span<const int64_t> idx, int64_t) {
      int64_t off = 0;
      for (size_t d = 0; d < idx.size(); ++d)
        off += idx[d] * st[d];
      out.push_back(off);
    });
    return out;
  };
  l.base = offsets(l.keptShape, keptStrides);
  l.inner = offsets(reducedShape, reducedStrides);
  return l;
}

// Rounds to f32 with round-to-odd: truncate toward zero, then set the last
// bit if anything was lost. A later round-to-nearest-even to a format with at
// least two fewer significand bits (f16: 11, bf16: 8) then equals a single
// correct rounding of the original value.
static_assert(std::numeric_limits<long double>::digits >= 64,
              "storeFromInt relies on long double holding any int64 exactly");

static float roundToOddF32(long double v) {
  float f = static_cast<float>(v);
  if (std::isnan(f) || std::isinf(f) || static_cast<long double>(f) == v)
    return f;
  if (std::fabs(static_cast<long double>(f)) > std::fabs(v))
    f = std::nextafter(f, 0.0f);
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  bits |= 1u;
  std::memcpy(&f, &bits, 4);
  return f;
}

static void storeLongDouble(Tensor &t, int64_t i, long double v) {
  switch (t.dtype()) {
  case DType::F32:
    t.data<float>()[i] = static_cast<float>(v);
    return;
  case DType::F64:
    t.data<double>()[i] = static_cast<double>(v);
    return;
  case DType::F16: {
    uint16_t h = floatToHalf(roundToOddF32(v));
    std::memcpy(t.bytes() + 2 * i, &h, 2);
    return;
  }
  case DType::BF16: {
    uint16_t h = floatToBf16(roundToOddF32(v));
    std::memcpy(t.bytes() + 2 * i, &h, 2);
    return;
  }
  default:
    t.setDouble(i, static_cast<double>(v));
    return;
  }
}

void storeRounded(Tensor &t, int64_t i, double v) {
  if (isFloat(t.dtype()))
    storeLongDouble(t, i, v);
  else
    t.setDouble(i, v);
}

void storeFromInt(Tensor &t, int64_t i, int64_t v) {
  if (isFloat(t.dtype()))
    storeLongDouble(t, i,
                    static_cast<long double>(v)); // exact: 64-bit mantissa
  else
    t.setInt(i, v);
}

void copyElement(const Tensor &src, int64_t si, Tensor &dst, int64_t di) {
  size_t size = dtypeSize(src.dtype());
  std::memcpy(dst.bytes() + di * size, src.bytes() + si * size, size);
}

absl::StatusOr<std::vector<int64_t>> reducedAxes(const Op &op) {
  int64_t rank = op.operand(0)->type.rank();
  if (!op.has("axes")) {
    std::vector<int64_t> all(rank);
    for (int64_t d = 0; d < rank; ++d)
      all[d] = d;
    return all;
  }
  NYX_ASSIGN_OR_RETURN(std::vector<int64_t> axes, op.getInts("axes"));
  return normalizeAxes(op, axes, rank);
}

} // namespace nyx::ir::ops
