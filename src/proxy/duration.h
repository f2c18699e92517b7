// Durations on the command line: "500ms", "5s", "2m", "1h", or "0" (none).
#pragma once

#include <chrono>
#include <string_view>

namespace snare::proxy {

// False when `text` is not a non-negative integer followed by ms, s, m or h (or a bare 0).
bool parse_duration(std::string_view text, std::chrono::milliseconds* out);

}  // namespace snare::proxy
