// The walk over the nftables rule program a plan writes (trace/nft_rules.cpp): istio's inet
// tables entered at their base chains by priority, nft's chain names and rule forms. Where a
// real connection goes under these rules is proven in tests/root/trace_kernel_nft.sh.
#include <catch2/catch.hpp>

#include "builder/builder.h"
#include "fakes/config_of.h"
#include "trace/report.h"
#include "trace/trace.h"

using namespace snare;
using testing::config_of;

namespace {

const Plan& nft_plan(const std::string& mode) {
  static std::vector<Plan> plans;  // the walk's entries point at the plan's rules
  plans.push_back(build_plan(config_of({"-b", "*", "-d", "15020,15021,15090", "-i", "*", "-m", mode,
                                        "--enable-ipv6=true", "--native-nftables"})));
  return plans.back();
}

Packet packet(const char* src, const char* dst, uint16_t dport) {
  Packet p;
  p.src = parse_ip(src).value;
  p.dst = parse_ip(dst).value;
  p.sport = 43210;
  p.dport = dport;
  p.uid = p.gid = 1000;
  return p;
}

}  // namespace

TEST_CASE("nftables: an app's connection is redirected by istio-proxy-nat's output chain") {
  Packet p = packet("10.0.0.5", "10.96.0.10", 80);
  p.oif = "eth0", p.socket = true;
  const TraceResult r =
      trace_packet(nft_trace_rules(nft_plan("REDIRECT"), Family::v4), Direction::out, p);
  REQUIRE(r.captured());
  CHECK(*r.capture->to_port == 15001);
  CHECK(r.by == "istio-proxy-nat output rule 1 -> istio-output rule 13 -> istio-redirect rule 1");
  REQUIRE(!r.path.empty());
  CHECK(r.path.front().text == "inet istio-proxy-nat output (type nat hook output priority -100)");
  CHECK(r.path[1].text == "counter jump istio-output");
  CHECK(r.path[1].why == "-> istio-output");
}

TEST_CASE("nftables: inbound TPROXY in mangle prerouting, before nat, for both families") {
  for (const char* dst : {"10.0.0.1", "fd00::1"}) {
    Packet p = packet(dst[0] == 'f' ? "fd00::9" : "10.0.0.9", dst, 8080);
    p.iif = "eth0";
    const Family f = p.dst.v6 ? Family::v6 : Family::v4;
    const TraceResult r = trace_packet(nft_trace_rules(nft_plan("TPROXY"), f), Direction::in, p);
    INFO(trace_text(r));
    REQUIRE(r.captured());
    CHECK(r.capture->kind == Capture::Kind::tproxy);
    CHECK(*r.capture->to_port == 15006);
    CHECK(r.uncertain.empty());
    CHECK(r.path.front().table_name == "istio-proxy-mangle");  // no raw rules here
  }
}
