// Duration parsing (see duration.h).
#include "proxy/duration.h"

#include <charconv>
#include <cstdint>

namespace snare::proxy {

bool parse_duration(std::string_view text, std::chrono::milliseconds* out) {
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || end == text.data()) return false;
  std::string_view unit(end, static_cast<size_t>(text.data() + text.size() - end));
  uint64_t ms_per = 0;
  if (unit == "ms") {
    ms_per = 1;
  } else if (unit == "s") {
    ms_per = 1000;
  } else if (unit == "m") {
    ms_per = 60 * 1000;
  } else if (unit == "h") {
    ms_per = 3600 * 1000;
  } else if (unit.empty() && n == 0) {
    ms_per = 1;
  } else {
    return false;
  }
  if (n > (uint64_t{1} << 40) / ms_per) return false;
  *out = std::chrono::milliseconds(static_cast<int64_t>(n * ms_per));
  return true;
}

}  // namespace snare::proxy
