// Converters of the ONNX ops that gather or scatter by index tuples or
// along an axis: GatherND, ScatterElements (and Scatter, its opset 9-10
// name) and ScatterND. Each maps onto one IR op of the same semantics
// (docs/ops.md); `reduction` arrived in opset 16 ("none", "add", "mul")
// and grew "max" and "min" in opset 18.
#include <string>

#include "frontends/onnx/converters.h"
#include "ir/strings.h"

namespace nyx::onnx_import {
namespace {

using ir::Value;

// The `reduction` attribute, checked against the values the node's opset
// defines.
std::string reductionOf(NodeContext &n) {
  std::string r = n.attrString("reduction", "none");
  const bool known = r == "none" || r == "add" || r == "mul" ||
                     (n.opset() >= 18 && (r == "max" || r == "min"));
  if (!known)
    n.fail(strCat("reduction is \"", r, "\"; expected \"none\", \"add\"",
                  n.opset() >= 18 ? ", \"mul\", \"max\" or \"min\""
                                  : " or \"mul\""))
        .IgnoreError();
  return r;
}

absl::Status convertGatherNd(NodeContext &n) {
  Value *data = n.input(0);
  Value *indices = n.input(1);
  if (!data || !indices)
    return n.status();
  const int64_t batchDims = n.attrInt("batch_dims", 0);
  n.setOutput(0,
              n.op("gather_nd", {data, indices}, {{"batch_dims", batchDims}}));
  return n.status();
}

absl::Status convertScatterElements(NodeContext &n) {
  Value *data = n.input(0);
  Value *indices = n.input(1);
  Value *updates = n.input(2);
  if (!data || !indices || !updates)
    return n.status();
  const int64_t axis = n.axis(n.attrInt("axis", 0), data->type.rank());
  const std::string reduction = reductionOf(n);
  if (!n.status().ok())
    return n.status();
  n.setOutput(0, n.op("scatter_elements", {data, indices, updates},
                      {{"axis", axis}, {"reduction", reduction}}));
  return n.status();
}

absl::Status convertScatterNd(NodeContext &n) {
  Value *data = n.input(0);
  Value *indices = n.input(1);
  Value *updates = n.input(2);
  if (!data || !indices || !updates)
    return n.status();
  const std::string reduction = reductionOf(n);
  if (!n.status().ok())
    return n.status();
  n.setOutput(0, n.op("scatter_nd", {data, indices, updates},
                      {{"reduction", reduction}}));
  return n.status();
}

constexpr ConverterEntry kTable[] = {
    {"GatherND", convertGatherNd},
    {"Scatter", convertScatterElements},
    {"ScatterElements", convertScatterElements},
    {"ScatterND", convertScatterNd},
};

} // namespace

std::span<const ConverterEntry> scatterConverters() { return kTable; }

} // namespace nyx::onnx_import
