// IEEE binary16 and bfloat16 conversions (round to nearest even).
#pragma once

#include <cstdint>

namespace nyx::ir {

float halfToFloat(uint16_t h);
uint16_t floatToHalf(float f);
float bf16ToFloat(uint16_t h);
uint16_t floatToBf16(float f);

} // namespace nyx::ir
