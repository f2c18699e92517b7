// The one clock snare times its steps with, and milliseconds as the logs print them (fractional:
// a whole apply takes about one).
#pragma once

#include <chrono>

namespace snare {

using Clock = std::chrono::steady_clock;

// Milliseconds from `start` to `end`.
inline double ms_between(Clock::time_point start, Clock::time_point end) {
  return std::chrono::duration<double, std::milli>(end - start).count();
}

// Milliseconds from `start` to now.
inline double ms_since(Clock::time_point start) { return ms_between(start, Clock::now()); }

}  // namespace snare
