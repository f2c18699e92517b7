// snare trace --live (trace/live.h): the listing's rule handles, the selection and correlation of
// canned trace events, the comparison with the simulation, and the run's temporary table, which
// is removed on every path. The events are as the kernel sends them (table, chain, rule handle,
// verdict); the handles are those of the kernel forms nft printed (tests/golden/istio/
// nftables-kernel-form). That the kernel's answer equals the simulation's for real packets is
// tests/root/trace_live.sh.
#include "trace/live.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "builder/builder.h"
#include "fakes/config_of.h"
#include "fakes/fake_nft.h"
#include "fakes/fake_nft_trace.h"
#include "trace/report.h"

using namespace snare;
using testing::config_of;

namespace {

std::string kernel_form(const std::string& name) {
  std::ifstream in(std::string(SNARE_SOURCE_DIR) + "/tests/golden/istio/nftables-kernel-form/" +
                   name + ".json");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

constexpr int32_t kAccept = 1, kDrop = 0, kContinue = -1, kJump = -3, kReturn = -5;

NftTraceEvent rule(uint32_t id, const char* table, const char* chain, uint64_t handle,
                   int32_t verdict, const char* target = "") {
  NftTraceEvent e;
  e.type = NftTraceEvent::Type::rule;
  e.id = id, e.table = table, e.chain = chain, e.handle = handle, e.verdict = verdict;
  e.jump_target = target;
  return e;
}

NftTraceEvent policy(uint32_t id, const char* table, const char* chain, uint32_t verdict = 1) {
  NftTraceEvent e;
  e.type = NftTraceEvent::Type::policy;
  e.id = id, e.table = table, e.chain = chain, e.policy = verdict;
  return e;
}

// The tproxy case of istio's table (-m TPROXY -x 1.1.0.0/16 -i 9.9.0.0/16 ...) as a plan.
const Plan& tproxy_plan() {
  static const Plan plan = build_plan(
      config_of({"-m", "TPROXY", "-b", "*", "-x", "1.1.0.0/16", "-i", "9.9.0.0/16",
                 "--redirect-dns", "-g", "1337", "-u", "1337", "-c", "not-istio-nic",
                 "--enable-ipv6=true", "--dns-servers=127.0.0.53", "--native-nftables"}));
  return plan;
}

Packet app_packet(const char* dst) {
  Packet p;
  p.src = parse_ip("10.0.0.5").value;
  p.dst = parse_ip(dst).value;
  p.sport = 43210, p.dport = 80;
  p.uid = p.gid = 1000;
  p.oif = "eth0", p.socket = true;
  return p;
}

// What the kernel reports for the app's connection to 9.9.0.5:80 under the tproxy case: raw and
// mangle pass it, nat's istio-output jumps to istio-redirect (handle 32), which redirects
// (handle 11). Events of snare's own table come first, as the kernel sends them.
std::vector<NftTraceEvent> redirected_events(uint32_t id) {
  return {rule(id, "snare-trace-1", "trace", 2, kContinue),
          policy(id, "snare-trace-1", "trace"),
          rule(id, "istio-proxy-raw", "output", 5, kJump, "istio-output-dns"),
          policy(id, "istio-proxy-raw", "output"),
          policy(id, "istio-proxy-mangle", "output"),
          rule(id, "istio-proxy-nat", "output", 13, kJump, "istio-output"),
          rule(id, "istio-proxy-nat", "istio-output", 26, kJump, "istio-output-dns"),
          rule(id, "istio-proxy-nat", "istio-output", 32, kJump, "istio-redirect"),
          rule(id, "istio-proxy-nat", "istio-redirect", 11, kAccept)};
}

// The same packet once redirected, arriving again on lo (a new trace id, iif 1): raw and mangle
// prerouting, where istio-inbound returns (handle 25: its third rule); nat is not traversed.
std::vector<NftTraceEvent> looped_events(uint32_t id) {
  std::vector<NftTraceEvent> out = {
      rule(id, "istio-proxy-raw", "prerouting", 10, kJump, "istio-inbound"),
      policy(id, "istio-proxy-raw", "prerouting"),
      rule(id, "istio-proxy-mangle", "prerouting", 12, kJump, "istio-inbound"),
      rule(id, "istio-proxy-mangle", "istio-inbound", 25, kReturn),
      rule(id, "istio-proxy-mangle", "prerouting", 0, kContinue),
      policy(id, "istio-proxy-mangle", "prerouting")};
  out[4].handle.reset();  // going on in the caller after the return: no rule
  for (NftTraceEvent& e : out) e.iif = 1;
  return out;
}

const std::vector<std::string> kIstioTables = {"istio-proxy-raw", "istio-proxy-mangle",
                                               "istio-proxy-nat"};

}  // namespace

TEST_CASE("live: the listing's handles give each rule's chain, position and capture") {
  LiveRules rules;
  REQUIRE(parse_live_rules(kernel_form("tproxy"), rules).ok());
  const LiveRule& redirect = rules.at({"istio-proxy-nat", 11});
  CHECK(redirect.chain == "istio-redirect");
  CHECK(redirect.position == 1);
  CHECK(redirect.action == "redirect");
  CHECK(*redirect.to_port == 15001);
  // In the chain's order, not the handles': istio-inbound's 22, 24, 25, 23, 13, 14.
  CHECK(rules.at({"istio-proxy-mangle", 23}).position == 4);
  CHECK(rules.at({"istio-proxy-mangle", 10}).action == "tproxy");
  CHECK(*rules.at({"istio-proxy-mangle", 10}).to_port == 15006);
  CHECK(rules.at({"istio-proxy-nat", 32}).action.empty());
  CHECK(!parse_live_rules("not json", rules).ok());
  CHECK(!parse_live_rules(R"({"x": 1})", rules).ok());
}

TEST_CASE("live: the packet's events are the first trace id's and its loop back on lo") {
  std::vector<NftTraceEvent> all = {rule(7, "t", "c", 1, kAccept), rule(9, "t", "c", 2, kAccept),
                                    rule(8, "t", "c", 3, kAccept), rule(7, "t", "c", 4, kAccept)};
  all[2].iif = 1;  // id 8 arrived on lo; id 9 is another packet
  std::vector<NftTraceEvent> out = select_events(all, true);
  REQUIRE(out.size() == 3);
  CHECK(*out[0].handle == 1);
  CHECK(*out[1].handle == 3);
  CHECK(*out[2].handle == 4);
  CHECK(select_events(all, false).size() == 2);
  CHECK(select_events({}, true).empty());
}

TEST_CASE("live: the kernel's redirect agrees with the simulation's, path included") {
  LiveRules rules;
  REQUIRE(parse_live_rules(kernel_form("tproxy"), rules).ok());
  std::vector<NftTraceEvent> all = redirected_events(3), looped = looped_events(4);
  all.insert(all.end(), looped.begin(), looped.end());
  LiveResult live = correlate(select_events(all, true), rules, kIstioTables, "snare-trace-1");
  CHECK(live.action == "redirect");
  CHECK(live.captured);
  CHECK(*live.to_port == 15001);
  REQUIRE(live.path.size() == 12);  // snare's own table and the return into the caller left out
  CHECK(live.path[0].table == "istio-proxy-raw");
  CHECK(live.path[6].chain == "istio-redirect");
  CHECK(live.path[6].position == 1);
  const TraceResult sim = trace_packet(nft_trace_rules(tproxy_plan(), Family::v4), Direction::out,
                                       app_packet("9.9.0.5"));
  compare_live(sim, app_packet("9.9.0.5"), live);
  INFO(trace_text(sim));
  CHECK(live.disagreements.empty());
  // The route the kernel chose for it, from the first event that names one.
  std::vector<NftTraceEvent> routed = all;
  routed[0].oif = 1, routed[0].oifname = "lo";
  LiveResult to_lo = correlate(select_events(routed, true), rules, kIstioTables, "snare-trace-1");
  CHECK(to_lo.oif == "lo");
  compare_live(sim, app_packet("9.9.0.5"), to_lo);
  REQUIRE(to_lo.disagreements.size() == 1);
  CHECK(to_lo.disagreements[0] == "oif: simulation eth0, kernel lo");
  const std::string text = live_text(live, false);
  CHECK(text.find("captured: redirect to :15001") != std::string::npos);
  CHECK(text.find("inet istio-proxy-nat istio-redirect rule 1 (handle 11): accept") !=
        std::string::npos);
  CHECK(text.find("agree") != std::string::npos);
}

TEST_CASE("live: a different verdict and path are each named once") {
  LiveRules rules;
  REQUIRE(parse_live_rules(kernel_form("tproxy"), rules).ok());
  // The kernel says the excluded-CIDR rule (handle 31) returned: not captured.
  std::vector<NftTraceEvent> events = redirected_events(3);
  events.resize(events.size() - 2);
  events.push_back(rule(3, "istio-proxy-nat", "istio-output", 31, kReturn));
  events.push_back(policy(3, "istio-proxy-nat", "output"));
  LiveResult live = correlate(events, rules, kIstioTables, "snare-trace-1");
  CHECK(live.action == "none");
  CHECK(!live.captured);
  const TraceResult sim = trace_packet(nft_trace_rules(tproxy_plan(), Family::v4), Direction::out,
                                       app_packet("9.9.0.5"));
  compare_live(sim, app_packet("9.9.0.5"), live);
  REQUIRE(live.disagreements.size() == 4);
  CHECK(live.disagreements[0] == "captured: simulation true, kernel false");
  CHECK(live.disagreements[1] == "action: simulation redirect, kernel none");
  CHECK(live.disagreements[2] == "to_port: simulation 15001, kernel none");
  CHECK(live.disagreements[3].find("path step 6: simulation istio-proxy-nat istio-output rule ") ==
        0);
  CHECK(live_text(live, true).find("\033[1;31mDISAGREES: captured") != std::string::npos);
}

TEST_CASE("live: a drop, a table the simulation lacks, and JSON beside the simulation's") {
  LiveRules rules;
  std::vector<NftTraceEvent> events = {rule(1, "other", "out", 4, kDrop)};
  events.push_back(policy(1, "istio-proxy-nat", "output", 0));
  NftTraceEvent ret = rule(1, "istio-proxy-nat", "istio-output", 0, kContinue);
  ret.type = NftTraceEvent::Type::ret;
  events.push_back(ret);
  // What the kernel sends on going on in the caller after a return: no rule handle.
  NftTraceEvent back = rule(1, "istio-proxy-nat", "output", 0, kContinue);
  back.handle.reset();
  events.push_back(back);
  LiveResult live = correlate(events, rules, kIstioTables, "snare-trace-1");
  CHECK(live.action == "drop");
  REQUIRE(live.path.size() == 2);  // the implicit return is no step
  CHECK(!live.path[0].simulated);
  CHECK(live.path[0].position == 0);
  CHECK(live.path[1].policy);
  CHECK(live.path[1].verdict == "drop");
  const TraceResult sim = trace_packet(nft_trace_rules(tproxy_plan(), Family::v4), Direction::out,
                                       app_packet("1.1.0.5"));
  compare_live(sim, app_packet("9.9.0.5"), live);
  const auto j = nlohmann::json::parse(trace_json(sim, live_json(live)));
  CHECK(j["live"]["action"] == "drop");
  CHECK(j["live"]["agrees"] == false);
  CHECK(j["live"]["path"][0]["simulated"] == false);
  CHECK(j["live"]["path"][0]["position"].is_null());
  CHECK(j["action"] == "none");
  CHECK(j["path"].size() == sim.path.size() - 3);  // the simulation's path is still its own
}

TEST_CASE("live: the temporary table's rule matches the packet's tuple at its first hook") {
  Packet p = app_packet("9.9.0.5");
  CHECK(live_table_commands("snare-trace-7", Direction::out, p) ==
        "add table inet snare-trace-7 { flags owner; }\n"
        "add chain inet snare-trace-7 trace { type filter hook output priority -350; policy "
        "accept; }\n"
        "add rule inet snare-trace-7 trace meta l4proto tcp ip saddr 10.0.0.5 ip daddr 9.9.0.5 "
        "tcp sport 43210 tcp dport 80 tcp flags & (syn | ack) == syn meta skuid 1000 meta skgid "
        "1000 meta nftrace set 1\n");
  p.src = parse_ip("fd00::9").value, p.dst = parse_ip("fd00::1").value;
  p.proto = "udp", p.iif = "veth0";
  const std::string in = live_table_commands("t", Direction::in, p);
  CHECK(in.find("hook prerouting priority -350") != std::string::npos);
  CHECK(in.find("meta l4proto udp ip6 saddr fd00::9 ip6 daddr fd00::1 udp sport 43210 udp dport "
                "80 iifname \"veth0\" meta nftrace set 1") != std::string::npos);
}
