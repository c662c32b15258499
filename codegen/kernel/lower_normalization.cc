// Normalization: softmax, log_softmax, layer_norm, rms_norm, batch_norm.
//
// Each output row (the elements that share every index but the normalized
// ones) is independent: a parallel nest over rows wraps serial passes over
// the row, all arithmetic in the compute type (f32 for f16/bf16). The row
// statistics (softmax's max and sum of exponentials, layer_norm's mean and
// variance, rms_norm's mean square) are reductions in partial results, in
// the orders partial_sums.h documents, once a row has 32 elements or more:
// over a contiguous row, sums in 16 lanes and the max in one running value
// that LLVM vectorizes; softmax over an axis with 16 or more elements after
// it keeps one partial max and sum per position of a tile of those
// elements instead. Shorter rows accumulate sequentially. layer_norm uses
// the corrected two-pass algorithm (see lowerNorm).
// batch_norm has no row statistics; it is a per-channel affine map.
#include <algorithm>
#include <functional>
#include <limits>

#include "absl/status/status.h"
#include "codegen/kernel/index_math.h"
#include "codegen/kernel/lowering.h"
#include "codegen/kernel/partial_sums.h"
#include "ir/strings.h"

namespace nyx::kernel {
namespace {

using B = Builder;

absl::Status requireFloat(const ir::Op &op) {
  const ir::TensorType &in = op.operand(0)->type;
  if (!ir::isFloat(in.dtype))
    return absl::InvalidArgumentError(
        strCat("'", op.name(), "' operand is ", in.str(),
               "; expected a float element type"));
  return absl::OkStatus();
}

ExprRef add(ExprRef a, ExprRef b) { return B::binary(BinaryFn::Add, a, b); }
ExprRef sub(ExprRef a, ExprRef b) { return B::binary(BinaryFn::Sub, a, b); }
ExprRef mul(ExprRef a, ExprRef b) { return B::binary(BinaryFn::Mul, a, b); }
ExprRef div(ExprRef a, ExprRef b) { return B::binary(BinaryFn::Div, a, b); }

void append(std::vector<StmtRef> &to, std::vector<StmtRef> more) {
  for (StmtRef &s : more)
    to.push_back(std::move(s));
}

// softmax and log_softmax over an axis with `inner` > 1 elements after it:
// the input is [outer, n, inner], and each tile of up to 64 contiguous
// inner positions keeps one partial max and one partial sum per position,
// which step down the n rows (partial_sums.h).
StmtRef softmaxOverColumnTiles(const ir::TensorType &in, int64_t axis,
                               int64_t inner, bool logarithm) {
  Builder b;
  const DType dt = in.dtype, ct = computeType(dt);
  const int64_t n = in.shape[axis];
  const Shape outer(in.shape.begin(), in.shape.begin() + axis);
  auto tile = [&](const ExprRef &o, const ExprRef &first, int64_t lanes) {
    ExprRef base = addIndex(mulIndex(o, n * inner), first);
    auto at = [&](const ExprRef &r, int64_t l) {
      return addIndex(addIndex(base, mulIndex(r, inner)), B::i64(l));
    };
    auto xAt = [&](const ExprRef &r, int64_t l) {
      return B::load(0, dt, at(r, l));
    };
    Lanes maxLanes(b, maxCombiner(ct), lanes, "max");
    Lanes sumLanes(b, sumCombiner(ct), lanes, "sum");
    std::vector<StmtRef> body = maxLanes.declare();
    append(body, maxLanes.addSteps(n, xAt));
    append(body, sumLanes.declare());
    append(body, sumLanes.addSteps(n, [&](const ExprRef &r, int64_t l) {
      return B::unary(UnaryFn::Exp,
                      sub(B::load(0, dt, at(r, l)), maxLanes.lane(l)));
    }));
    std::vector<ExprRef> logSums;
    if (logarithm)
      for (int64_t l = 0; l < lanes; ++l) {
        Var v = b.newVar(ct, strCat("log_sum", l));
        body.push_back(B::declare(v, B::unary(UnaryFn::Log, sumLanes.lane(l))));
        logSums.push_back(B::ref(v));
      }
    Var r = b.newVar(DType::I64, "r");
    std::vector<StmtRef> stores;
    for (int64_t l = 0; l < lanes; ++l) {
      ExprRef shifted = sub(B::load(0, dt, at(B::ref(r), l)), maxLanes.lane(l));
      stores.push_back(B::store(
          1, at(B::ref(r), l),
          logarithm ? sub(shifted, logSums[l])
                    : div(B::unary(UnaryFn::Exp, shifted), sumLanes.lane(l))));
    }
    body.push_back(B::loop(r, B::i64(n), std::move(stores)));
    return B::block(std::move(body));
  };
  // Each tile keeps two or three lanes per column and stores every column
  // of every row in its own statement: narrower tiles than a reduction's,
  // and narrower still for f16/bf16, whose conversions at every load and
  // store make LLVM's SLP vectorizer slow on wide tiles.
  const bool half = dt == DType::F16 || dt == DType::BF16;
  return columnTiles(b, outer, inner, half ? 16 : 64, tile);
}

// softmax and log_softmax over one axis, which need not be the last: the
// input is viewed as [outer, n, inner] and the row of (o, i) has stride
// `inner`.
absl::StatusOr<Kernel> lowerSoftmax(const ir::Op &op, std::string name,
                                    bool logarithm) {
  if (auto s = requireFloat(op); !s.ok())
    return s;
  const ir::TensorType &in = op.operand(0)->type;
  auto axis = axisAttribute(op, "axis", -1, in.rank());
  if (!axis.ok())
    return axis.status();
  Kernel k = kernelSkeleton(op, std::move(name));
  const int64_t inner =
      ir::numElements(Shape(in.shape.begin() + *axis + 1, in.shape.end()));
  if (inner >= kMinTileColumns) {
    k.body = softmaxOverColumnTiles(in, *axis, inner, logarithm);
    return k;
  }
  Builder b;
  const DType dt = in.dtype, ct = computeType(dt);
  AlongAxis row(b, in.shape, *axis);
  const int64_t n = row.extent();
  Var r = b.newVar(DType::I64, "r");
  ExprRef x = B::load(0, dt, row.at(B::ref(r)));

  Var mx = b.newVar(ct, "max");
  Var sum = b.newVar(ct, "sum");
  Var r2 = b.newVar(DType::I64, "r");
  Var r3 = b.newVar(DType::I64, "r");
  // Every pass reads the same row, each with its own loop index.
  ExprRef x2 = B::load(0, dt, row.at(B::ref(r2)));
  ExprRef x3 = B::load(0, dt, row.at(B::ref(r3)));
  // max(x) with NaN sticking, so a NaN anywhere in the row makes every
  // output NaN, as exp(x - NaN) does in the reference.
  ExprRef takes = B::binary(BinaryFn::Or, B::compare(CmpFn::Gt, x, B::ref(mx)),
                            B::compare(CmpFn::Ne, x, x));
  ExprRef shifted3 = sub(x3, B::ref(mx));
  ExprRef value = logarithm
                      ? sub(shifted3, B::unary(UnaryFn::Log, B::ref(sum)))
                      : div(B::unary(UnaryFn::Exp, shifted3), B::ref(sum));
  std::vector<StmtRef> body;
  const int64_t groups = inner == 1 ? runGroups(n) : 0;
  if (groups > 0) {
    // A contiguous row: the max in one running value that LLVM
    // vectorizes, the sum in partial results.
    RunSum sums(b, ct, "sum");
    auto xAt = [&](const ExprRef &i) { return B::load(0, dt, row.at(i)); };
    body = {B::declare(
                mx, B::constant(ct, -std::numeric_limits<double>::infinity())),
            extremeOfRun(b, mx, true, n, xAt)};
    append(body, sums.declare());
    append(body, sums.add(n, groups, [&](const ExprRef &i) {
      return B::unary(UnaryFn::Exp, sub(xAt(i), B::ref(mx)));
    }));
    append(body, sums.combine());
    body.push_back(B::declare(sum, sums.total()));
  } else {
    body = {
        B::declare(mx,
                   B::constant(ct, -std::numeric_limits<double>::infinity())),
        B::loop(r, B::i64(n), {B::assign(mx, B::select(takes, x, B::ref(mx)))}),
        B::declare(sum, B::constant(ct, 0)),
        B::loop(
            r2, B::i64(n),
            {B::assign(sum, add(B::ref(sum), B::unary(UnaryFn::Exp,
                                                      sub(x2, B::ref(mx)))))})};
  }
  body.push_back(
      B::loop(r3, B::i64(n), {B::store(1, row.at(B::ref(r3)), value)}));
  k.body = row.others().wrap(std::move(body), true);
  return k;
}

// The operands of layer_norm/rms_norm after x: scale and bias, each of
// shape x.shape[axis:] and x's dtype.
absl::Status checkAffine(const ir::Op &op, const Shape &normShape) {
  const ir::TensorType &x = op.operand(0)->type;
  for (int i = 1; i < op.numOperands(); ++i) {
    const ir::TensorType &t = op.operand(i)->type;
    if (t.dtype != x.dtype || t.shape != normShape)
      return absl::InvalidArgumentError(
          strCat("'", op.name(), "' operand ", i, " is ", t.str(),
                 "; expected ", ir::TensorType{x.dtype, normShape}.str()));
  }
  return absl::OkStatus();
}

// layer_norm and rms_norm: the normalized dimensions axis..rank-1 are
// contiguous, so each row is `d` consecutive elements.
absl::StatusOr<Kernel> lowerNorm(const ir::Op &op, std::string name, bool rms) {
  if (auto s = requireFloat(op); !s.ok())
    return s;
  const ir::TensorType &in = op.operand(0)->type;
  auto axis = axisAttribute(op, "axis", -1, in.rank());
  if (!axis.ok())
    return axis.status();
  auto epsilon = op.getFloat("epsilon", rms ? 1e-6 : 1e-5);
  if (!epsilon.ok())
    return epsilon.status();
  const int maxOperands = rms ? 2 : 3;
  if (op.numOperands() > maxOperands)
    return absl::InvalidArgumentError(
        strCat("'", op.name(), "' has ", op.numOperands(),
               " operands; expected at most ", maxOperands));
  Shape normShape(in.shape.begin() + *axis, in.shape.end());
  if (auto s = checkAffine(op, normShape); !s.ok())
    return s;
  const int64_t d = ir::numElements(normShape);
  const int64_t rowsCount = d == 0 ? 0 : in.numElements() / d;
  const bool hasScale = op.numOperands() >= 2;
  const bool hasBias = op.numOperands() >= 3;
  const int out = op.numOperands();

  Kernel k = kernelSkeleton(op, std::move(name));
  Builder b;
  const DType dt = in.dtype, ct = computeType(dt);
  LoopNest rows(b, {rowsCount}, "row");
  ExprRef base = mulIndex(rows.indices()[0], d);
  auto loadX = [&](const ExprRef &j) {
    return B::load(0, dt, addIndex(base, j));
  };
  ExprRef count = B::constant(ct, static_cast<double>(d));

  std::vector<StmtRef> body;
  Var j1 = b.newVar(DType::I64, "j"), j2 = b.newVar(DType::I64, "j"),
      j3 = b.newVar(DType::I64, "j");
  Var mean = b.newVar(ct, "mean"), acc = b.newVar(ct, "acc"),
      inv = b.newVar(ct, "inv");
  // Declares `into` as the sum of value(j) over the row: in partial
  // results (partial_sums.h) when the row is long enough, else sequentially
  // with loop index `j`.
  const int64_t groups = runGroups(d);
  std::vector<int> declared;
  auto rowSum = [&](const Var &j, const Var &into,
                    const std::function<ExprRef(const ExprRef &)> &value) {
    auto set = [&](ExprRef v) {
      bool again = std::find(declared.begin(), declared.end(), into.id) !=
                   declared.end();
      declared.push_back(into.id);
      return again ? B::assign(into, v) : B::declare(into, v);
    };
    if (groups == 0) {
      body.push_back(set(B::constant(ct, 0)));
      body.push_back(
          B::loop(j, B::i64(d),
                  {B::assign(into, add(B::ref(into), value(B::ref(j))))}));
      return;
    }
    RunSum sums(b, ct, "acc");
    append(body, sums.declare());
    append(body, sums.add(d, groups, value));
    append(body, sums.combine());
    body.push_back(set(sums.total()));
  };
  ExprRef centered; // x - mean in the output pass (x itself for rms_norm)
  if (rms) {
    rowSum(j1, acc, [&](const ExprRef &j) {
      ExprRef x = loadX(j);
      return mul(x, x);
    });
    centered = loadX(B::ref(j3));
  } else {
    // The corrected two-pass algorithm: the mean; the sum of the deviations
    // from it, zero but for the rounding of the mean, and the sum of their
    // squares, two passes that need only the mean. Their mean `error`
    // corrects the deviations: sum (x - mean - error)^2 = squares -
    // deviations * error. Unlike a one-pass sum of squares this does not
    // cancel when the mean is large against the spread, and the correction
    // keeps the centred values accurate to their last bits however large
    // the mean. The row is read again from cache. (One sum per pass: two
    // sums in one pass give LLVM's SLP vectorizer pairs of alike values to
    // vectorize two lanes wide.)
    Var error = b.newVar(ct, "mean_error"), j4 = b.newVar(DType::I64, "j");
    auto deviation = [&](const ExprRef &j) {
      return sub(loadX(j), B::ref(mean));
    };
    rowSum(j1, acc, loadX);
    body.push_back(B::declare(mean, div(B::ref(acc), count)));
    rowSum(j4, error, deviation);
    rowSum(j2, acc, [&](const ExprRef &j) {
      ExprRef dev = deviation(j);
      return mul(dev, dev);
    });
    body.push_back(B::assign(
        acc, sub(B::ref(acc), mul(B::ref(error), div(B::ref(error), count)))));
    body.push_back(B::assign(error, div(B::ref(error), count)));
    centered = sub(deviation(B::ref(j3)), B::ref(error));
  }
  body.push_back(B::declare(
      inv, div(B::constant(ct, 1),
               B::unary(UnaryFn::Sqrt, add(div(B::ref(acc), count),
                                           B::constant(ct, *epsilon))))));
  ExprRef y = mul(centered, B::ref(inv));
  if (hasScale)
    y = mul(y, B::load(1, dt, B::ref(j3)));
  if (hasBias)
    y = add(y, B::load(2, dt, B::ref(j3)));
  body.push_back(
      B::loop(j3, B::i64(d), {B::store(out, addIndex(base, B::ref(j3)), y)}));
  k.body = rows.wrap(std::move(body), true);
  return k;
}

// batch_norm: x viewed as [outer, C, inner] around the channel axis. The
// channel's factor scale / sqrt(var + epsilon) is computed once per (outer,
// c) and the contiguous inner loop is a multiply-add that vectorizes. When
// the channel axis is innermost (inner == 1, a matmul's features) the loop
// over channels is itself the contiguous one: the vectors are read with
// unit stride and the factor is computed per element.
absl::StatusOr<Kernel> lowerBatchNorm(const ir::Op &op, std::string name) {
  if (auto s = requireFloat(op); !s.ok())
    return s;
  const ir::TensorType &in = op.operand(0)->type;
  if (op.numOperands() != 5)
    return absl::InvalidArgumentError(
        strCat("'batch_norm' has ", op.numOperands(),
               " operands; expected 5 (x, scale, bias, mean, var)"));
  auto axis = axisAttribute(op, "axis", 1, in.rank());
  if (!axis.ok())
    return axis.status();
  auto epsilon = op.getFloat("epsilon", 1e-5);
  if (!epsilon.ok())
    return epsilon.status();
  const int64_t channels = in.shape[*axis];
  if (auto s = checkAffine(op, {channels}); !s.ok())
    return s;
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < *axis; ++d)
    outer *= in.shape[d];
  for (int64_t d = *axis + 1; d < in.rank(); ++d)
    inner *= in.shape[d];
  constexpr int kX = 0, kScale = 1, kBias = 2, kMean = 3, kVar = 4, kOut = 5;

  Kernel k = kernelSkeleton(op, std::move(name));
  Builder b;
  const DType dt = in.dtype, ct = computeType(dt);
  LoopNest nest(b, {outer, channels}, "bn");
  ExprRef c = nest.indices()[1];
  ExprRef row = addIndex(mulIndex(nest.indices()[0], channels), c);
  ExprRef factor = div(B::load(kScale, dt, c),
                       B::unary(UnaryFn::Sqrt, add(B::load(kVar, dt, c),
                                                   B::constant(ct, *epsilon))));
  if (inner == 1) {
    ExprRef y =
        add(mul(sub(B::load(kX, dt, row), B::load(kMean, dt, c)), factor),
            B::load(kBias, dt, c));
    k.body = nest.wrap({B::store(kOut, row, y)}, true);
    return k;
  }
  Var f = b.newVar(ct, "factor"), m = b.newVar(ct, "mean"),
      sh = b.newVar(ct, "bias");
  Var j = b.newVar(DType::I64, "j");
  ExprRef at = addIndex(mulIndex(row, inner), B::ref(j));
  ExprRef y =
      add(mul(sub(B::load(kX, dt, at), B::ref(m)), B::ref(f)), B::ref(sh));
  k.body =
      nest.wrap({B::declare(f, factor), B::declare(m, B::load(kMean, dt, c)),
                 B::declare(sh, B::load(kBias, dt, c)),
                 B::loop(j, B::i64(inner), {B::store(kOut, at, y)})},
                true);
  return k;
}

} // namespace

void registerNormalizationLowerings(LoweringRegistry &r) {
  r.add("softmax", [](const ir::Op &op, std::string name) {
    return lowerSoftmax(op, std::move(name), false);
  });
  r.add("log_softmax", [](const ir::Op &op, std::string name) {
    return lowerSoftmax(op, std::move(name), true);
  });
  r.add("layer_norm", [](const ir::Op &op, std::string name) {
    return lowerNorm(op, std::move(name), false);
  });
  r.add("rms_norm", [](const ir::Op &op, std::string name) {
    return lowerNorm(op, std::move(name), true);
  });
  r.add("batch_norm", [](const ir::Op &op, std::string name) {
    return lowerBatchNorm(op, std::move(name));
  });
}

} // namespace nyx::kernel
