#include "passes/quant_profile.h"

#include <cmath>

#include "ir/strings.h"

namespace nyx::passes {

namespace {

constexpr int kVersion = 1;

absl::Status bad(std::string_view filename, std::string_view where,
                 std::string_view expected) {
  return absl::InvalidArgumentError(
      strCat(filename, ": error: ", where, ": expected ", expected));
}

} // namespace

nlohmann::json profileToJson(const QuantProfile &profile) {
  nlohmann::json activations = nlohmann::json::object();
  for (const auto &[name, range] : profile.ranges)
    activations[name] = {
        {"shape", range.shape}, {"min", range.min}, {"max", range.max}};
  return {{"nyx_quant_profile", kVersion},
          {"observer", profile.observer},
          {"activations", activations}};
}

absl::StatusOr<QuantProfile> profileFromJson(const nlohmann::json &json,
                                             std::string_view filename) {
  if (!json.is_object() || !json.contains("nyx_quant_profile"))
    return bad(filename, "the top level",
               "a quantization profile, an object with \"nyx_quant_profile\"");
  const nlohmann::json &version = json["nyx_quant_profile"];
  if (!version.is_number_integer() || version.get<int64_t>() != kVersion)
    return bad(filename, "\"nyx_quant_profile\"", strCat("version ", kVersion));
  QuantProfile profile;
  for (const auto &[key, value] : json.items()) {
    if (key == "observer") {
      if (!value.is_string())
        return bad(filename, "\"observer\"", "a string");
      profile.observer = value.get<std::string>();
    } else if (key != "nyx_quant_profile" && key != "activations") {
      return bad(filename, strCat("key \"", key, "\""),
                 "nyx_quant_profile, observer or activations");
    }
  }
  if (!json.contains("activations") || !json["activations"].is_object())
    return bad(filename, "\"activations\"", "an object of value names");
  for (const auto &[name, entry] : json["activations"].items()) {
    const std::string where = strCat("activation \"", name, "\"");
    if (!entry.is_object() || entry.size() != 3 || !entry.contains("shape") ||
        !entry.contains("min") || !entry.contains("max"))
      return bad(filename, where, "an object with shape, min and max");
    ActivationRange range;
    const nlohmann::json &shape = entry["shape"];
    if (!shape.is_array())
      return bad(filename, strCat(where, " shape"), "a list of sizes");
    for (const nlohmann::json &d : shape) {
      if (!d.is_number_integer() || d.get<int64_t>() < 0)
        return bad(filename, strCat(where, " shape"), "sizes >= 0");
      range.shape.push_back(d.get<int64_t>());
    }
    for (auto [field, out] :
         {std::pair{"min", &range.min}, std::pair{"max", &range.max}}) {
      const nlohmann::json &v = entry[field];
      if (!v.is_number() || !std::isfinite(v.get<double>()))
        return bad(filename, strCat(where, " ", field), "a finite number");
      *out = v.get<double>();
    }
    if (range.min > range.max)
      return bad(
          filename, where,
          strCat("min <= max; it has min ", range.min, " and max ", range.max));
    profile.ranges.emplace(name, std::move(range));
  }
  return profile;
}

} // namespace nyx::passes
