#include "ir/conv_filter.h"

#include <charconv>

#include "absl/status/status.h"
#include "ir/strings.h"

namespace nyx::ir {

std::string FilterLayout::name() const {
  switch (kind) {
  case OIHW:
    return "oihw";
  case IHWO:
    return "ihwo";
  case BLOCKED:
    return strCat("Oihw", block, "o");
  }
  return "";
}

absl::StatusOr<FilterLayout> filterLayout(const Op &op) {
  auto text = op.getString(kFilterLayoutAttr, std::string("oihw"));
  if (!text.ok())
    return text.status();
  if (*text == "oihw")
    return FilterLayout{};
  if (*text == "ihwo")
    return FilterLayout{FilterLayout::IHWO};
  std::string_view s = *text;
  if (s.size() > 5 && s.starts_with("Oihw") && s.ends_with("o")) {
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
             "\"; expected \"oihw\", \"ihwo\" or \"Oihw<B>o\" with B a "
             "positive block size"));
}

std::array<int64_t, 4> filterDims(const Shape &w, const FilterLayout &layout) {
  switch (layout.kind) {
  case FilterLayout::IHWO:
    return {w[3], w[0], w[1], w[2]};
  case FilterLayout::BLOCKED:
    return {w[0] * w[4], w[1], w[2], w[3]};
  case FilterLayout::OIHW:
    break;
  }
  return {w[0], w[1], w[2], w[3]};
}

Shape filterShape(const std::array<int64_t, 4> &d, const FilterLayout &layout) {
  switch (layout.kind) {
  case FilterLayout::IHWO:
    return {d[1], d[2], d[3], d[0]};
  case FilterLayout::BLOCKED:
    return {d[0] / layout.block, d[1], d[2], d[3], layout.block};
  case FilterLayout::OIHW:
    break;
  }
  return {d[0], d[1], d[2], d[3]};
}

int64_t filterOffset(const std::array<int64_t, 4> &d,
                     const FilterLayout &layout, int64_t o, int64_t i,
                     int64_t kh, int64_t kw) {
  const int64_t tap = (i * d[2] + kh) * d[3] + kw;
  switch (layout.kind) {
  case FilterLayout::IHWO:
    return tap * d[0] + o;
  case FilterLayout::BLOCKED:
    return ((o / layout.block) * d[1] * d[2] * d[3] + tap) * layout.block +
           o % layout.block;
  case FilterLayout::OIHW:
    break;
  }
  return o * d[1] * d[2] * d[3] + tap;
}

} // namespace nyx::ir
