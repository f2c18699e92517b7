// snare trace --live's run (trace/live_run.cpp) over the fakes: the temporary table is written
// before the packet and removed afterwards on every path (an answer, a failed probe, a signal, a
// timeout); nothing is written when the trace group cannot be joined.
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "fakes/fake_nft.h"
#include "fakes/fake_nft_trace.h"
#include "trace/live.h"

using namespace snare;

namespace {

LiveOptions options() {
  LiveOptions o;
  o.dir = Direction::out;
  o.packet.src = parse_ip("10.0.0.5").value;
  o.packet.dst = parse_ip("9.9.0.5").value;
  o.packet.sport = 43210, o.packet.dport = 80;
  o.packet.uid = 1000, o.packet.gid = 1001;
  o.mark = 0x539;
  o.timeout_ms = 20;
  o.table = "snare-trace-42";
  o.traced_tables = {"istio-proxy-nat", "istio-proxy-raw"};
  return o;
}

// The nat table of istio's empty case (nft printed it), as the namespace's only table.
void hold_nat(testing::FakeNft& nft) {
  std::ifstream in(std::string(SNARE_SOURCE_DIR) +
                   "/tests/golden/istio/nftables-kernel-form/empty.json");
  std::stringstream ss;
  ss << in.rdbuf();
  nft.set_ruleset(ss.str());
}

NftTraceEvent event(const char* table, const char* chain, uint64_t handle, int32_t verdict) {
  NftTraceEvent e;
  e.id = 5, e.table = table, e.chain = chain, e.handle = handle, e.verdict = verdict;
  return e;
}

void check_added_then_deleted(const testing::FakeNft& nft) {
  REQUIRE(nft.runs.size() == 2);
  CHECK(nft.runs[0].rfind("add table inet snare-trace-42 { flags owner; }\n", 0) == 0);
  CHECK(nft.runs[1] == "delete table inet snare-trace-42\n");
}

}  // namespace

TEST_CASE("live run: the packet is sent as its owner, traced, and the table removed") {
  testing::FakeNft nft;
  hold_nat(nft);
  testing::FakeNftTrace ops;
  ops.events = {event("snare-trace-42", "trace", 2, -1), event("istio-proxy-nat", "output", 9, -3),
                event("istio-proxy-nat", "istio-output", 17, -5)};
  NftTraceEvent pol;
  pol.type = NftTraceEvent::Type::policy;
  pol.id = 5, pol.table = "istio-proxy-nat", pol.chain = "output";
  ops.events.push_back(pol);
  int signal = -1;
  const LiveResult r = run_live(nft, ops, options(), signal);
  CHECK(signal == 0);
  CHECK(r.error.empty());
  check_added_then_deleted(nft);
  REQUIRE(ops.sent.size() == 1);
  CHECK(ops.sent[0].uid == 1000);
  CHECK(ops.sent[0].gid == 1001);
  CHECK(*ops.sent[0].mark == 0x539);
  CHECK(ops.sent[0].tcp);
  CHECK(ops.caught == 1);
  CHECK(ops.released == 1);
  REQUIRE(r.path.size() == 3);
  CHECK(r.path[1].position == 8);  // handle 17: istio-output's eighth rule
  CHECK(r.action == "none");
  // istio-proxy-raw is simulated but not in the kernel: named as a disagreement.
  REQUIRE(r.disagreements.size() == 1);
  CHECK(r.disagreements[0] == "table inet istio-proxy-raw: simulated, not in the kernel");
}

TEST_CASE("live run: a failed probe, a signal and a timeout still remove the table") {
  testing::FakeNft nft;
  hold_nat(nft);
  testing::FakeNftTrace ops;
  int signal = 0;
  SECTION("the probe cannot be sent") {
    ops.send_result = Status::Fail("bind: Cannot assign requested address");
    const LiveResult r = run_live(nft, ops, options(), signal);
    CHECK(r.error == "the probe packet: bind: Cannot assign requested address");
  }
  SECTION("SIGINT while waiting for someone else's packet") {
    LiveOptions o = options();
    o.wait_for_peer = true;
    bool waited = false;
    o.on_waiting = [&] { waited = true; };
    ops.next_error = "interrupted by SIGINT";
    ops.signal = 2;
    const LiveResult r = run_live(nft, ops, o, signal);
    CHECK(waited);
    CHECK(ops.sent.empty());
    CHECK(r.error == "interrupted by SIGINT");
    CHECK(signal == 2);
  }
  SECTION("no packet within the timeout") {
    const LiveResult r = run_live(nft, ops, options(), signal);
    CHECK(r.error == "no matching packet was traced within 1 s (--live-timeout)");
  }
  SECTION("the removal fails too: both errors are named") {
    ops.send_result = Status::Fail("connect: Network is unreachable");
    nft.fail_run_at = 2;
    const LiveResult r = run_live(nft, ops, options(), signal);
    CHECK(r.error.find("the probe packet: connect: Network is unreachable; could not remove "
                       "table inet snare-trace-42: ") == 0);
    REQUIRE(nft.runs.size() == 2);
    return;
  }
  check_added_then_deleted(nft);
  CHECK(ops.released == 1);
}

TEST_CASE("live run: nothing is written when the trace group cannot be joined") {
  testing::FakeNft nft;
  testing::FakeNftTrace ops;
  ops.subscribe_result = Status::Fail(
      "cannot join the nftables trace group: Operation not "
      "permitted");
  int signal = 0;
  const LiveResult r = run_live(nft, ops, options(), signal);
  CHECK(r.error.find("Operation not permitted") != std::string::npos);
  CHECK(nft.runs.empty());
  CHECK(ops.sent.empty());
  CHECK(ops.released == 1);
}
