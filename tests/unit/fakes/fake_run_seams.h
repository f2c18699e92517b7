// FakeRunSeams: apply/run.h's seams (capability check, nftables detection, the xtables lock, the
// RouteOps factory, the closing log line) as recorders, for tests of run_rule_command. Every call
// appends to `events` ("capability", "nft_tables", "lock WHAT PATH", "routes", "unlock", "done
// MSG"), so a test sees the order; the fields say what each seam answers.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "apply/run.h"
#include "fakes/fake_ipsets.h"
#include "fakes/fake_routes.h"

namespace snare::testing {

// The seam hands out an owned IpsetOps; the test keeps the fake to look at afterwards.
class Borrowed : public IpsetOps {
 public:
  explicit Borrowed(IpsetOps& o) : o_(o) {}
  Status get(const std::string& n, bool& f, IpsetInfo& i) override { return o_.get(n, f, i); }
  Status create(const std::string& n, Family f) override { return o_.create(n, f); }
  Status destroy(const std::string& n) override { return o_.destroy(n); }
  Status add(const std::string& n, const std::string& ip, const std::string& c) override {
    return o_.add(n, ip, c);
  }
  Status del(const std::string& n, const std::string& ip) override { return o_.del(n, ip); }
  std::optional<uint16_t> index_of(const std::string& n) override { return o_.index_of(n); }
  std::optional<std::string> name_of(uint16_t i) override { return o_.name_of(i); }

 private:
  IpsetOps& o_;
};

struct FakeRunSeams {
  std::vector<std::string> events;
  Status capability = Status::Ok();
  Status detection = Status::Ok();
  std::vector<NftTableInfo> nft_state;  // what nftables detection finds
  Status lock_result = Status::Ok();
  double waited_ms = 0;
  LogFields last_fields;         // the closing line's fields
  FakeIpsets* ipsets = nullptr;  // the ipsets a plan with sets gets (the test owns them)

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
    s.ipsets = [this]() -> std::unique_ptr<IpsetOps> {
      events.push_back("ipsets");
      return std::make_unique<Borrowed>(*ipsets);
    };
    s.done_line = [this](std::string_view msg, const LogFields& f) {
      events.push_back("done " + std::string(msg));
      last_fields = f;
    };
    return s;
  }
};

}  // namespace snare::testing
