// FakeRunSeams: apply/run.h's seams (capability check, nftables detection, the xtables lock, the
// RouteOps factory, the closing log line) as recorders, for tests of run_rule_command. Every call
// appends to `events` ("capability", "nft_tables", "lock WHAT PATH", "routes", "unlock", "done
// MSG"), so a test sees the order; the fields say what each seam answers.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "apply/run.h"
#include "fakes/fake_routes.h"

namespace snare::testing {

struct FakeRunSeams {
  std::vector<std::string> events;
  Status capability = Status::Ok();
  Status detection = Status::Ok();
  std::vector<NftTableInfo> nft_state;  // what nftables detection finds
  Status lock_result = Status::Ok();
  double waited_ms = 0;
  LogFields last_fields;  // the closing line's fields

  RunSeams seams() {
    RunSeams s;
    s.check_capability = [this] {
      events.push_back("capability");
      return capability;
    };
    s.nft_tables = [this](std::vector<NftTableInfo>& out) {
      events.push_back("nft_tables");
      out = nft_state;
      return detection;
    };
    s.lock = [this](const std::string& what, const std::string& path, std::chrono::milliseconds,
                    double& waited) {
      events.push_back("lock " + what + " " + path);
      waited = waited_ms;
      return lock_result;
    };
    s.unlock = [this] { events.push_back("unlock"); };
    s.nft_lock_path = [] { return std::string("/run/snare/nftables-netns-test.lock"); };
    s.routes = [this]() -> std::unique_ptr<RouteOps> {
      events.push_back("routes");
      return std::make_unique<FakeRouteOps>();
    };
    s.done_line = [this](std::string_view msg, const LogFields& f) {
      events.push_back("done " + std::string(msg));
      last_fields = f;
    };
    return s;
  }
};

}  // namespace snare::testing
