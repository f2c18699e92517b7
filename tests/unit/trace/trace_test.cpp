// The walk (trace/trace.h) over istio's sidecar rule sets as snare's plan replays them, and over
// hand-made tables for what those never hold: loops, DROP policies, entries snare cannot model.
// Where the rule sets send a real connection is proven against the kernel in
// tests/root/trace_kernel_*.sh; these pin the walk's own rules.
#include "trace/trace.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "builder/builder.h"
#include "ext/forms.h"
#include "fakes/config_of.h"
#include "trace/report.h"

using namespace snare;
using testing::config_of;

namespace {

// istio-cni's sidecar flags (cases.tsv's cni-basic), with TPROXY or REDIRECT.
std::vector<TableModel> cni_tables(const std::string& mode, Family family = Family::v4) {
  static std::vector<Plan> plans;  // replayed entries point at the plan's rules
  plans.push_back(build_plan(config_of({"-b", "*", "-d", "15020,15021,15090", "-o", "15020", "-i",
                                        "*", "-x", "", "-m", mode, "--enable-ipv6=false"})));
  return replay_fresh(plans.back(), entered_chain, family);
}

Packet packet(const char* src, uint16_t sport, const char* dst, uint16_t dport) {
  Packet p;
  p.src = parse_ip(src).value;
  p.dst = parse_ip(dst).value;
  p.sport = sport;
  p.dport = dport;
  p.uid = p.gid = 1000;
  return p;
}

Packet out_packet(const char* dst, uint16_t dport, uint32_t uid = 1000) {
  Packet p = packet("10.0.0.5", 43210, dst, dport);
  p.oif = parse_ip(dst).value.loopback() ? "lo" : "eth0";
  p.socket = true;
  p.uid = p.gid = uid;
  return p;
}

Packet in_packet(const char* dst, uint16_t dport) {
  Packet p = packet("10.0.0.9", 43210, dst, dport);
  p.iif = "eth0";
  return p;
}

}  // namespace

TEST_CASE("an app's outbound connection is redirected to 15001 with its original destination") {
  const TraceResult r =
      trace_packet(cni_tables("REDIRECT"), Direction::out, out_packet("10.96.0.10", 80));
  REQUIRE(r.captured());
  CHECK(r.capture->kind == Capture::Kind::redirect);
  CHECK(*r.capture->to_port == 15001);
  CHECK(trace_summary(r) ==
        "captured: REDIRECT to :15001, original destination 10.96.0.10:80, by nat OUTPUT rule 1 "
        "-> ISTIO_OUTPUT rule 11 -> ISTIO_REDIRECT rule 1");
  bool named = false;
  for (const TraceStep& s : r.path) named = named || s.why == "--dport 15020: 80";
  CHECK(named);
  CHECK(r.uncertain.empty());
}

TEST_CASE("the proxy's own connections and excluded ports are not captured") {
  auto tables = cni_tables("REDIRECT");
  const TraceResult proxy =
      trace_packet(tables, Direction::out, out_packet("10.96.0.10", 80, 1337));
  CHECK(!proxy.captured());
  CHECK(std::string(trace_action(proxy)) == "none");
  CHECK(proxy.last_match == "nat OUTPUT rule 1 -> ISTIO_OUTPUT rule 6 (RETURN)");
  const TraceResult port = trace_packet(tables, Direction::out, out_packet("10.96.0.10", 15020));
  CHECK(!port.captured());
  CHECK(port.last_match == "nat OUTPUT rule 1 -> ISTIO_OUTPUT rule 1 (RETURN)");
}

TEST_CASE("inbound: captured to 15006, excluded ports pass") {
  auto tables = cni_tables("REDIRECT");
  const TraceResult in = trace_packet(tables, Direction::in, in_packet("10.0.0.5", 9090));
  REQUIRE(in.captured());
  CHECK(*in.capture->to_port == 15006);
  CHECK(in.by == "nat PREROUTING rule 1 -> ISTIO_INBOUND rule 5 -> ISTIO_IN_REDIRECT rule 1");
  CHECK(!trace_packet(tables, Direction::in, in_packet("10.0.0.5", 15008)).captured());
  CHECK(!trace_packet(tables, Direction::in, in_packet("10.0.0.5", 15090)).captured());
}

TEST_CASE("inbound on lo skips nat: a local socket sent it, its NAT was bound at OUTPUT") {
  // The kernel's own trace (tests/root/trace_live.sh) shows no nat prerouting chain for it.
  Packet p = in_packet("10.0.0.5", 9090);
  p.iif = "lo";
  const TraceResult in = trace_packet(cni_tables("REDIRECT"), Direction::in, p);
  CHECK(!in.captured());
  bool noted = false;
  for (const TraceStep& s : in.path)
    noted = noted || (s.kind == TraceStep::Kind::note && s.table == Table::nat);
  CHECK(noted);
}

TEST_CASE("TPROXY mode: inbound is assigned to 15006 with mark 1337, outbound redirected") {
  auto tables = cni_tables("TPROXY");
  const TraceResult in = trace_packet(tables, Direction::in, in_packet("10.0.0.5", 9090));
  REQUIRE(in.captured());
  CHECK(in.capture->kind == Capture::Kind::tproxy);
  CHECK(in.packet.mark == 1337);
  CHECK(std::string(trace_action(in)) == "tproxy");
  const TraceResult out = trace_packet(tables, Direction::out, out_packet("10.96.0.10", 80));
  CHECK(out.capture->kind == Capture::Kind::redirect);
}

TEST_CASE("the proxy's connection to its own pod address goes to the inbound port") {
  // Out on lo: nat OUTPUT's ISTIO_IN_REDIRECT; then the packet loops back through PREROUTING,
  // where nat is not traversed again.
  Packet p = out_packet("10.0.0.5", 8080, 1337);
  p.oif = "lo";
  const TraceResult r = trace_packet(cni_tables("REDIRECT"), Direction::out, p);
  REQUIRE(r.captured());
  CHECK(*r.capture->to_port == 15006);
  bool looped = false;
  for (const TraceStep& s : r.path) looped = looped || s.kind == TraceStep::Kind::note;
  CHECK(looped);
}

TEST_CASE("a later packet of a connection does not traverse nat") {
  Packet p = out_packet("10.96.0.10", 80);
  p.established = true;
  const TraceResult r = trace_packet(cni_tables("REDIRECT"), Direction::out, p);
  CHECK(trace_text(r).find("nat OUTPUT not traversed") != std::string::npos);
  // It follows its connection: the first packet's REDIRECT.
  REQUIRE(r.captured());
  CHECK(r.by ==
        "its connection's first packet: nat OUTPUT rule 1 -> ISTIO_OUTPUT rule 11 -> "
        "ISTIO_REDIRECT rule 1");
  // In TPROXY mode a later inbound packet takes ISTIO_DIVERT (mark 1337, ACCEPT) to the
  // connection's socket.
  Packet in = in_packet("10.0.0.5", 9090);
  in.established = true;
  const TraceResult t = trace_packet(cni_tables("TPROXY"), Direction::in, in);
  CHECK(t.packet.mark == 1337);
  REQUIRE(t.captured());
  CHECK(t.capture->kind == Capture::Kind::tproxy);
}

TEST_CASE("an IPv6 packet with no IPv6 rule set passes untouched") {
  Packet p = out_packet("fd00::1", 80);
  p.src = parse_ip("fd00::5").value;
  const TraceResult r = trace_packet(cni_tables("REDIRECT", Family::v6), Direction::out, p);
  CHECK(!r.capture);
  CHECK(r.path.empty());
}

namespace {

// A nat table with OUTPUT -> A, whatever `fill` adds.
TableModel hand_table(const std::function<void(TableModel&)>& fill) {
  TableModel t = empty_table(Family::v4, Table::nat);
  fill(t);
  return t;
}

void add_rule(TableModel& t, const std::string& chain, Target target,
              std::vector<std::string> unsupported = {}) {
  if (!t.find(chain)) t.chains.push_back(Chain{chain, false, "", {}});
  auto rule = std::make_shared<Rule>();
  rule->table = t.table;
  rule->chain = chain;
  rule->target = std::move(target);
  Entry e;
  e.rule = rule;
  e.unsupported = std::move(unsupported);
  t.find(chain)->entries.push_back(std::move(e));
}

}  // namespace

TEST_CASE("a loop between chains is reported, not followed") {
  const TableModel t = hand_table([](TableModel& m) {
    add_rule(m, "OUTPUT", JumpTarget{"A"});
    add_rule(m, "A", JumpTarget{"B"});
    add_rule(m, "B", JumpTarget{"A"});
  });
  const TraceResult r = trace_packet({t}, Direction::out, out_packet("10.96.0.10", 80));
  CHECK(r.error ==
        "loop between chains: nat OUTPUT rule 1 -> A rule 1 -> B rule 1 jumps back to A");
  CHECK(trace_summary(r).rfind("stopped: loop", 0) == 0);
}

TEST_CASE("a walk past its step bound stops") {
  // 12 chains each jumping twice to the next: 2^12 rule evaluations without a bound.
  const TableModel t = hand_table([](TableModel& m) {
    add_rule(m, "OUTPUT", JumpTarget{"C0"});
    for (int i = 0; i < 12; ++i)
      for (int k = 0; k < 2; ++k)
        add_rule(m, "C" + std::to_string(i), JumpTarget{"C" + std::to_string(i + 1)});
    add_rule(m, "C12", JumpTarget{"RETURN"});
  });
  const TraceResult r = trace_packet({t}, Direction::out, out_packet("10.96.0.10", 80), 1000);
  CHECK(r.error == "more than 1000 rules evaluated: the walk stopped");
}

TEST_CASE("a DROP policy drops, RETURN in a builtin chain takes the policy") {
  const TableModel t = hand_table([](TableModel& m) {
    m.find("OUTPUT")->policy = "DROP";
    add_rule(m, "OUTPUT", JumpTarget{"RETURN"});
  });
  const TraceResult r = trace_packet({t}, Direction::out, out_packet("10.96.0.10", 80));
  CHECK(r.dropped);
  CHECK(trace_summary(r) == "dropped by nat OUTPUT policy DROP");
}

TEST_CASE("an entry snare cannot model makes the answer uncertain, not a guess") {
  const TableModel t = hand_table([](TableModel& m) {
    add_rule(m, "OUTPUT", JumpTarget{"ACCEPT"}, {"-m statistic (rev 0)"});
    add_rule(m, "OUTPUT", JumpTarget{"MISSING"});
  });
  const TraceResult r = trace_packet({t}, Direction::out, out_packet("10.96.0.10", 80));
  REQUIRE(r.uncertain.size() == 2);
  CHECK(r.uncertain[0] == "nat OUTPUT rule 1: not modelled: -m statistic (rev 0)");
  CHECK(trace_summary(r).rfind("uncertain (2 rules could not be evaluated): ", 0) == 0);
  CHECK(trace_json(r).find("\"matched\":null") != std::string::npos);
}

TEST_CASE("the JSON answer is what nlohmann writes, whatever bytes a rule holds") {
  // The path is written by hand (for speed): parsing it and writing it again with nlohmann must
  // give the same bytes (sorted keys, the same escapes), for quotes, backslashes, control and
  // non-ASCII bytes in what a --rules file brought.
  const TableModel t = hand_table([](TableModel& m) {
    add_rule(m, "OUTPUT", JumpTarget{"RETURN"}, {"-m comment --comment \"a\\b\"\t\xc3\xa9"});
    add_rule(m, "OUTPUT", JumpTarget{"RETURN"}, {"-m comment --comment \"a\\b\""});  // ASCII
    add_rule(m, "OUTPUT", JumpTarget{"ACCEPT"});
  });
  const TraceResult r = trace_packet({t}, Direction::out, out_packet("10.96.0.10", 80));
  REQUIRE(r.path.size() == 6);  // nat OUTPUT: three rules; nat POSTROUTING: its policy
  const std::string out = trace_json(r);
  CHECK(nlohmann::json::parse(out).dump() + "\n" == out);
  CHECK(nlohmann::json::parse(out)["path"].size() == 4);
  CHECK(nlohmann::json::parse(out)["path"][0]["why"].get<std::string>().find("\t\xc3\xa9") !=
        std::string::npos);
  CHECK(nlohmann::json::parse(out)["path"][1]["why"] ==
        "not modelled: -m comment --comment \"a\\b\"");
}

// istio's policy routes: TPROXY's `ip rule add fwmark 0x539 lookup 133` (numbered by the kernel,
// 32765) and ambient's `fwmark 0x111/0xfff pref 32764 lookup 100`.
TEST_CASE("routing after the walk: the mark selects istio's fwmark rule, or the main table") {
  const RouteOps::TproxyRoute sidecar{0x539, 133, 0xffffffff, 0};
  const RouteOps::TproxyRoute ambient{0x111, 100, 0xfff, 32764};
  TraceResult r;
  r.packet.mark = 0x539;
  route_packet(r, {ambient, sidecar});
  REQUIRE(r.routing);
  CHECK(r.routing->matched);
  CHECK(r.routing->rule == "fwmark 0x539/0xffffffff lookup 133");
  r = TraceResult{};
  r.packet.mark = 0x4111;  // the mask keeps 0x111: ambient's rule, first by priority
  route_packet(r, {sidecar, ambient});
  REQUIRE(r.routing);
  CHECK(r.routing->rule == "fwmark 0x111/0xfff lookup 100");
  r = TraceResult{};
  route_packet(r, {sidecar});  // mark 0: no rule, the main table
  REQUIRE(r.routing);
  CHECK_FALSE(r.routing->matched);
  r = TraceResult{};
  route_packet(r, {});  // no routes, nothing TPROXY'd: nothing to say
  CHECK_FALSE(r.routing);
  r.capture = Capture{Capture::Kind::tproxy, 15006, {}, {}, 0};
  route_packet(r, {});  // TPROXY'd without a route: said
  REQUIRE(r.routing);
  CHECK(r.routing->note.find("TPROXY needs one") != std::string::npos);
}
