// Validation: which stage a failure is reported as, from what the probe saw.
#include <catch2/catch.hpp>

#include "probe/validation.h"

using snare::validation::failure_stage;
using snare::validation::Observations;

namespace {
std::string stage(const Observations& o) {
  std::string s = failure_stage(o, "127.0.0.6:15002", "127.0.0.1:15001 or 127.0.0.1:15006");
  return s.substr(0, s.find(':'));
}
}  // namespace

TEST_CASE("validation failure stages", "[proxy][validation]") {
  Observations o;
  CHECK(stage(o) == "timed out");
  o.timed_out = 2;
  CHECK(stage(o) == "timed out");
  o.refused = 1;
  CHECK(stage(o) == "refused");
  o.connected_elsewhere = 1;
  CHECK(stage(o) == "reached the wrong listener");
  o.wrong_dst = 1;
  o.wrong_dst_seen = "127.0.0.1:15006 itself";
  CHECK(stage(o) == "wrong original destination");
  CHECK(failure_stage(o, "127.0.0.6:15002", "x").find("127.0.0.1:15006 itself") !=
        std::string::npos);
}

TEST_CASE("validation names other connect errors", "[proxy][validation]") {
  Observations o;
  o.other_errors = 1;
  o.last_errno = ENETUNREACH;
  auto s = failure_stage(o, "[::6]:15002", "[::1]:15006");
  CHECK(s.rfind("connect failed", 0) == 0);
  CHECK(s.find("unreachable") != std::string::npos);
}
