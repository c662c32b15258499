#include "ir/winograd.h"

#include "ir/ops/op_helpers.h"
#include "ir/strings.h"

namespace nyx::ir::winograd {

const double kBT[kWindow][kWindow] = {
    {4, 0, -5, 0, 1, 0},  {0, -4, -4, 1, 1, 0}, {0, 4, -4, -1, 1, 0},
    {0, -2, -1, 2, 1, 0}, {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1},
};

const double kG[kWindow][3] = {
    {1.0 / 4, 0, 0},
    {-1.0 / 6, -1.0 / 6, -1.0 / 6},
    {-1.0 / 6, 1.0 / 6, -1.0 / 6},
    {1.0 / 24, 1.0 / 12, 1.0 / 6},
    {1.0 / 24, -1.0 / 12, 1.0 / 6},
    {0, 0, 1},
};

const double kAT[kTile][kWindow] = {
    {1, 1, 1, 1, 1, 0},
    {0, 1, -1, 2, -2, 0},
    {0, 1, 1, 4, 4, 0},
    {0, 1, -1, 8, -8, 1},
};

namespace {

std::string listString(const std::vector<int64_t> &v) {
  return strCat("[", strJoin(v, ", "), "]");
}

absl::Status checkOperand(const Op &op, int64_t rank, std::string_view form) {
  NYX_RETURN_IF_ERROR(ops::checkOperandDType(op, 0, ops::DTypeClass::Float));
  const TensorType &t = op.operand(0)->type;
  if (t.rank() != rank)
    return ops::opError(op, strCat("operand 0 is ", t.str(), "; expected rank ",
                                   rank, " (", form, ")"));
  return absl::OkStatus();
}

} // namespace

absl::StatusOr<Geometry> inputGeometry(const Op &op) {
  NYX_RETURN_IF_ERROR(checkOperand(op, 4, "NCHW"));
  const TensorType &x = op.operand(0)->type;
  NYX_ASSIGN_OR_RETURN(std::vector<int64_t> pad,
                       op.getInts("padding", std::vector<int64_t>{0, 0, 0, 0}));
  if (pad.size() != 4)
    return ops::opError(op, strCat("attribute 'padding' is ", listString(pad),
                                   "; expected 4 entries (top, left, bottom, "
                                   "right)"));
  for (int64_t p : pad)
    if (p < 0 || p > 2)
      return ops::opError(op, strCat("attribute 'padding' is ", listString(pad),
                                     "; expected entries from 0 to 2 (a 3x3 "
                                     "window)"));
  Geometry g;
  g.images = x.shape[0];
  g.channels = x.shape[1];
  g.inH = x.shape[2];
  g.inW = x.shape[3];
  g.top = pad[0];
  g.left = pad[1];
  g.outH = g.inH + pad[0] + pad[2] - 2;
  g.outW = g.inW + pad[1] + pad[3] - 2;
  if (g.outH < 1 || g.outW < 1)
    return ops::opError(op, strCat("input ", x.str(), " with padding ",
                                   listString(pad),
                                   " is smaller than the 3x3 window"));
  g.tilesH = tilesAlong(g.outH);
  g.tilesW = tilesAlong(g.outW);
  return g;
}

absl::StatusOr<Geometry> outputGeometry(const Op &op) {
  NYX_RETURN_IF_ERROR(checkOperand(op, 3, "[36, M, tiles]"));
  const TensorType &m = op.operand(0)->type;
  NYX_ASSIGN_OR_RETURN(std::vector<int64_t> size, op.getInts("output_size"));
  if (size.size() != 2 || size[0] < 1 || size[1] < 1 ||
      size[0] > kMaxElements || size[1] > kMaxElements)
    return ops::opError(op,
                        strCat("attribute 'output_size' is ", listString(size),
                               "; expected 2 positive entries (OH, OW)"));
  Geometry g;
  g.outH = size[0];
  g.outW = size[1];
  g.tilesH = tilesAlong(g.outH);
  g.tilesW = tilesAlong(g.outW);
  if (g.tilesH > kMaxElements / g.tilesW)
    return ops::opError(op, strCat("attribute 'output_size' is ",
                                   listString(size), "; expected at most 2^",
                                   kMaxElementsLog2, " tiles per image"));
  const int64_t perImage = g.tilesH * g.tilesW;
  if (m.shape[0] != kPoints || m.shape[2] % perImage != 0)
    return ops::opError(
        op, strCat("operand 0 is ", m.str(), "; expected [36, M, N * ",
                   perImage, "] for output_size ", listString(size), " (",
                   g.tilesH, "x", g.tilesW, " tiles per image)"));
  g.channels = m.shape[1];
  g.images = m.shape[2] / perImage;
  return g;
}

Tensor transformFilter(const Tensor &oihw) {
  const int64_t m = oihw.shape()[0], c = oihw.shape()[1];
  Tensor u(TensorType{oihw.type().dtype, {kPoints, m, c}});
  for (int64_t o = 0; o < m; ++o)
    for (int64_t i = 0; i < c; ++i) {
      double g[3][3];
      for (int64_t kh = 0; kh < 3; ++kh)
        for (int64_t kw = 0; kw < 3; ++kw)
          g[kh][kw] = oihw.getDouble(((o * c + i) * 3 + kh) * 3 + kw);
      for (int64_t xi = 0; xi < kWindow; ++xi)
        for (int64_t nu = 0; nu < kWindow; ++nu) {
          double sum = 0;
          for (int64_t kh = 0; kh < 3; ++kh)
            for (int64_t kw = 0; kw < 3; ++kw)
              sum += kG[xi][kh] * g[kh][kw] * kG[nu][kw];
          ops::storeRounded(u, ((xi * kWindow + nu) * m + o) * c + i, sum);
        }
    }
  return u;
}

} // namespace nyx::ir::winograd
