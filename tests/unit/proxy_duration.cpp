// Durations on the `snare proxy` command line.
#include <catch2/catch.hpp>

#include "proxy/duration.h"

using snare::proxy::parse_duration;

TEST_CASE("durations parse with a unit", "[proxy][duration]") {
  struct Case {
    const char* text;
    long long ms;
  };
  auto c = GENERATE(Case{"0", 0}, Case{"250ms", 250}, Case{"5s", 5000}, Case{"2m", 120000},
                    Case{"1h", 3600000}, Case{"0s", 0});
  std::chrono::milliseconds out{-1};
  REQUIRE(parse_duration(c.text, &out));
  CHECK(out.count() == c.ms);
}

TEST_CASE("durations without a unit or with junk are refused", "[proxy][duration]") {
  auto text =
      GENERATE(as<std::string>{}, "", "5", "s", "-1s", "5x", "5 s", "1.5s", "99999999999999h");
  std::chrono::milliseconds out{7};
  CHECK_FALSE(parse_duration(text, &out));
  CHECK(out.count() == 7);
}
