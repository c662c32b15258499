#include "ir/conv_filter.h"

#include "absl/status/status.h"
#include "ir/strings.h"

namespace nyx::ir {

absl::StatusOr<FilterLayout> filterLayout(const Op &op) {
  auto text = op.getString(kFilterLayoutAttr, std::string("oihw"));
  if (!text.ok())
    return text.status();
  if (*text == "oihw")
    return FilterLayout::OIHW;
  if (*text == "ihwo")
    return FilterLayout::IHWO;
  return absl::InvalidArgumentError(
      strCat("attribute '", kFilterLayoutAttr, "' is \"", *text,
             "\"; expected \"oihw\" or \"ihwo\""));
}

std::array<int64_t, 4> filterDims(const Shape &w, FilterLayout layout) {
  if (layout == FilterLayout::IHWO)
    return {w[3], w[0], w[1], w[2]};
  return {w[0], w[1], w[2], w[3]};
}

Shape filterShape(const std::array<int64_t, 4> &d, FilterLayout layout) {
  if (layout == FilterLayout::IHWO)
    return {d[1], d[2], d[3], d[0]};
  return {d[0], d[1], d[2], d[3]};
}

int64_t filterOffset(const std::array<int64_t, 4> &d, FilterLayout layout,
                     int64_t o, int64_t i, int64_t kh, int64_t kw) {
  if (layout == FilterLayout::IHWO)
    return ((i * d[2] + kh) * d[3] + kw) * d[0] + o;
  return ((o * d[1] + i) * d[2] + kh) * d[3] + kw;
}

} // namespace nyx::ir
