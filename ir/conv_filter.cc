#include "ir/conv_filter.h"

#include <charconv>

#include "absl/status/status.h"
#include "ir/strings.h"

namespace nyx::ir {

std::string FilterLayout::name() const {
  switch (kind) {
  case OIHW:
    return "oihw";
  case HWIO:
    return "hwio";
  case BLOCKED:
    return strCat("Ohwi", block, "o");
  }
  return "";
}

absl::StatusOr<FilterLayout> filterLayout(const Op &op) {
  auto text = op.getString(kFilterLayoutAttr, std::string("oihw"));
  if (!text.ok())
    return text.status();
  if (*text == "oihw")
    return FilterLayout{};
  if (*text == "hwio")
    return FilterLayout{FilterLayout::HWIO};
  std::string_view s = *text;
  if (s.size() > 5 && s.starts_with("Ohwi") && s.ends_with("o")) {
    std::string_view digits = s.substr(4, s.size() - 5);
    int64_t block = 0;
    auto [end, ec] =
        std::from_chars(digits.data(), digits.data() + digits.size(), block);
    if (ec == std::errc() && end == digits.data() + digits.size() &&
        block > 0 && digits[0] != '0')
      return FilterLayout::blocked(block);
  }
  return absl::InvalidArgumentError(
      strCat("attribute '", kFilterLayoutAttr, "' is \"", *text,
             "\"; expected \"oihw\", \"hwio\" or \"Ohwi<B>o\" with B a "
             "positive block size"));
}

std::array<int64_t, 4> filterDims(const Shape &w, const FilterLayout &layout) {
  switch (layout.kind) {
  case FilterLayout::HWIO:
    return {w[3], w[2], w[0], w[1]};
  case FilterLayout::BLOCKED:
    return {w[0] * w[4], w[3], w[1], w[2]};
  case FilterLayout::OIHW:
    break;
  }
  return {w[0], w[1], w[2], w[3]};
}

Shape filterShape(const std::array<int64_t, 4> &d, const FilterLayout &layout) {
  switch (layout.kind) {
  case FilterLayout::HWIO:
    return {d[2], d[3], d[1], d[0]};
  case FilterLayout::BLOCKED:
    return {d[0] / layout.block, d[2], d[3], d[1], layout.block};
  case FilterLayout::OIHW:
    break;
  }
  return {d[0], d[1], d[2], d[3]};
}

int64_t filterOffset(const std::array<int64_t, 4> &d,
                     const FilterLayout &layout, int64_t o, int64_t i,
                     int64_t kh, int64_t kw) {
  // The (tap, input channel) row of the hwio and blocked layouts.
  const int64_t row = (kh * d[3] + kw) * d[1] + i;
  switch (layout.kind) {
  case FilterLayout::HWIO:
    return row * d[0] + o;
  case FilterLayout::BLOCKED:
    return ((o / layout.block) * d[1] * d[2] * d[3] + row) * layout.block +
           o % layout.block;
  case FilterLayout::OIHW:
    break;
  }
  return ((o * d[1] + i) * d[2] + kh) * d[3] + kw;
}

} // namespace nyx::ir
