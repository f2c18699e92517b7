// The evaluation form of every match and target (ext/eval.h): matched, not matched (naming the
// failed test), negated, and what a target does to the packet; the values are the kernel's
// semantics (xt_owner without a socket, --set-xmark, CONNMARK's masks).
#include "ext/eval.h"

#include <catch2/catch.hpp>

#include "ext/forms.h"

using namespace snare;
using Outcome = MatchResult::Outcome;

namespace {

IpAddr ip(const char* text) { return parse_ip(text).value; }

// An app's TCP packet from 10.0.0.5:43210 to 10.96.0.10:80, at nat OUTPUT.
EvalContext out_ctx() {
  EvalContext c;
  c.hook = Hook::output;
  c.table = Table::nat;
  c.packet.src = ip("10.0.0.5");
  c.packet.dst = ip("10.96.0.10");
  c.packet.sport = 43210;
  c.packet.dport = 80;
  c.packet.oif = "eth0";
  c.packet.socket = true;
  c.packet.uid = c.packet.gid = 1000;
  return c;
}

Outcome eval(const Match& m, const EvalContext& c) { return eval_match(m, c).outcome; }

}  // namespace

TEST_CASE("an address match tests the prefix, negated with !") {
  const EvalContext c = out_ctx();
  CHECK(eval(AddrMatch{false, false, "10.96.0.0/12"}, c) == Outcome::matched);
  CHECK(eval(AddrMatch{false, true, "10.96.0.0/12"}, c) == Outcome::failed);
  CHECK(eval(AddrMatch{false, false, "127.0.0.1/32"}, c) == Outcome::failed);
  CHECK(eval(AddrMatch{false, true, "127.0.0.1/32"}, c) == Outcome::matched);
  CHECK(eval(AddrMatch{true, false, "10.0.0.5"}, c) == Outcome::matched);  // bare: /32
  const MatchResult r = eval_match(AddrMatch{true, false, "127.0.0.6/32"}, c);
  CHECK(r.why == "-s 127.0.0.6/32: source 10.0.0.5");
  EvalContext v6 = c;
  v6.family = Family::v6;
  v6.packet.dst = ip("fd00::1");
  CHECK(eval(AddrMatch{false, false, "fd00::/8"}, v6) == Outcome::matched);
  CHECK(eval(AddrMatch{false, false, "::1/128"}, v6) == Outcome::failed);
}

TEST_CASE("an interface match compares names, eth+ as a prefix, and no device as empty") {
  EvalContext c = out_ctx();
  CHECK(eval(IfaceMatch{true, false, "eth0"}, c) == Outcome::matched);
  CHECK(eval(IfaceMatch{true, false, "eth+"}, c) == Outcome::matched);
  CHECK(eval(IfaceMatch{true, false, "lo"}, c) == Outcome::failed);
  CHECK(eval(IfaceMatch{true, true, "lo"}, c) == Outcome::matched);
  // OUTPUT has no input device: -i never matches there, ! -i always.
  CHECK(eval(IfaceMatch{false, false, "eth0"}, c) == Outcome::failed);
  CHECK(eval(IfaceMatch{false, true, "eth0"}, c) == Outcome::matched);
}

TEST_CASE("protocol, port and multiport matches") {
  EvalContext c = out_ctx();
  CHECK(eval(ProtoMatch{"tcp"}, c) == Outcome::matched);
  CHECK(eval(ProtoMatch{"udp"}, c) == Outcome::failed);
  CHECK(eval(L4Match{"tcp"}, c) == Outcome::matched);
  CHECK(eval(PortMatch{"tcp", false, false, "80"}, c) == Outcome::matched);
  CHECK(eval(PortMatch{"tcp", false, true, "80"}, c) == Outcome::failed);
  CHECK(eval(PortMatch{"tcp", false, false, "1:79"}, c) == Outcome::failed);
  CHECK(eval(PortMatch{"tcp", true, false, "43000:44000"}, c) == Outcome::matched);
  CHECK(eval(PortMatch{"udp", false, false, "80"}, c) == Outcome::failed);  // another protocol
  CHECK(eval_match(PortMatch{"tcp", false, true, "80"}, c).why == "! --dport 80: 80");
  CHECK(eval(MultiportMatch{"tcp", false, {"53", "80"}}, c) == Outcome::matched);
  CHECK(eval(MultiportMatch{"tcp", true, {"53", "15008"}}, c) == Outcome::matched);
  CHECK(eval(MultiportMatch{"tcp", true, {"70:90"}}, c) == Outcome::failed);
}

TEST_CASE("the owner match: uid and gid, negated, no socket, and only in OUTPUT/POSTROUTING") {
  EvalContext c = out_ctx();
  CHECK(eval(OwnerMatch{false, false, "1337", 1337}, c) == Outcome::failed);
  CHECK(eval(OwnerMatch{false, true, "1337", 1337}, c) == Outcome::matched);
  c.packet.gid = 1337;
  CHECK(eval(OwnerMatch{true, false, "1337", 1337}, c) == Outcome::matched);
  CHECK(eval(SocketOwnerMatch{}, c) == Outcome::matched);
  // Without a socket only a negated test holds (xt_owner).
  c.packet.socket = false;
  CHECK(eval(OwnerMatch{false, false, "1000", 1000}, c) == Outcome::failed);
  CHECK(eval(OwnerMatch{false, true, "1337", 1337}, c) == Outcome::matched);
  CHECK(eval(SocketOwnerMatch{}, c) == Outcome::failed);
  c.hook = Hook::prerouting;
  CHECK(eval(OwnerMatch{false, false, "1337", 1337}, c) == Outcome::unknown);
  CHECK(eval(OwnerMatch{false, false, "istio-proxy", std::nullopt}, out_ctx()) == Outcome::unknown);
}

TEST_CASE("mark, connmark and conntrack state matches") {
  EvalContext c = out_ctx();
  c.packet.mark = 0x539;
  CHECK(eval(MarkMatch{false, "1337"}, c) == Outcome::matched);
  CHECK(eval(MarkMatch{true, "1338"}, c) == Outcome::matched);
  CHECK(eval(MarkMatch{true, "1337"}, c) == Outcome::failed);
  CHECK(eval(MarkMatch{false, "0x539/0xfff"}, c) == Outcome::matched);
  c.packet.mark = 0x1539;
  CHECK(eval(MarkMatch{false, "0x539/0xfff"}, c) == Outcome::matched);
  CHECK(eval(MarkMatch{false, "0x539"}, c) == Outcome::failed);
  c.packet.ctmark = 1337;
  CHECK(eval(ConnmarkMatch{"1337"}, c) == Outcome::matched);
  CHECK(eval(ConnmarkMatch{"1338"}, c) == Outcome::failed);
  CHECK(eval(ConntrackMatch{{"NEW"}}, c) == Outcome::matched);
  CHECK(eval(ConntrackMatch{{"RELATED", "ESTABLISHED"}}, c) == Outcome::failed);
  c.packet.established = true;
  CHECK(eval(ConntrackMatch{{"RELATED", "ESTABLISHED"}}, c) == Outcome::matched);
  // raw runs before conntrack: no state (INVALID), no connection mark.
  c.conntrack = false;
  CHECK(eval(ConntrackMatch{{"INVALID"}}, c) == Outcome::matched);
  CHECK(eval(ConnmarkMatch{"1337"}, c) == Outcome::failed);
  CHECK(eval(SetMatch{"probes", false}, c) == Outcome::unknown);
}

TEST_CASE("the standard target's verdicts and jumps") {
  EvalContext c = out_ctx();
  using K = TargetResult::Kind;
  CHECK(eval_target(JumpTarget{"ACCEPT"}, c).kind == K::accept);
  CHECK(eval_target(JumpTarget{"DROP"}, c).kind == K::drop);
  CHECK(eval_target(JumpTarget{"RETURN"}, c).kind == K::ret);
  const TargetResult j = eval_target(JumpTarget{"ISTIO_OUTPUT"}, c);
  CHECK(j.kind == K::jump);
  CHECK(j.chain == "ISTIO_OUTPUT");
}

TEST_CASE("REDIRECT maps to the loopback port and keeps the original destination") {
  EvalContext c = out_ctx();
  CHECK(eval_target(RedirectTarget{"15001"}, c).kind == TargetResult::Kind::accept);
  REQUIRE(c.capture);
  CHECK(c.capture->kind == Capture::Kind::redirect);
  CHECK(*c.capture->to_port == 15001);
  CHECK(addr_port_text(c.capture->orig_dst, c.capture->orig_dport) == "10.96.0.10:80");
  CHECK(addr_port_text(c.packet.dst, c.packet.dport) == "127.0.0.1:15001");
  CHECK(c.packet.oif == "lo");
  EvalContext m = out_ctx();
  m.table = Table::mangle;
  CHECK(eval_target(RedirectTarget{"15001"}, m).kind == TargetResult::Kind::unknown);
}

TEST_CASE("TPROXY marks the packet and assigns it to the port, in mangle PREROUTING only") {
  EvalContext c = out_ctx();
  c.hook = Hook::prerouting;
  c.table = Table::mangle;
  c.packet.mark = 0xffff0000;
  CHECK(eval_target(TproxyTarget{"1337/0xffffffff", "15006"}, c).kind ==
        TargetResult::Kind::accept);
  CHECK(c.packet.mark == 1337);
  REQUIRE(c.capture);
  CHECK(c.capture->kind == Capture::Kind::tproxy);
  CHECK(*c.capture->to_port == 15006);
  CHECK(addr_port_text(c.packet.dst, c.packet.dport) == "10.96.0.10:80");  // not rewritten
  EvalContext n = out_ctx();
  CHECK(eval_target(TproxyTarget{"1337/0xffffffff", "15006"}, n).kind ==
        TargetResult::Kind::unknown);
}

TEST_CASE("MARK, CONNMARK and CT change the packet and go on") {
  EvalContext c = out_ctx();
  c.packet.mark = 0xf0000;
  CHECK(eval_target(MarkTarget{"1338"}, c).kind == TargetResult::Kind::next);
  CHECK(c.packet.mark == 1338);
  CHECK(eval_target(MarkTarget{"0x1/0xf"}, c).kind == TargetResult::Kind::next);
  CHECK(c.packet.mark == ((1338u & ~0xfu) ^ 1u));
  c.packet.mark = 1337;
  eval_target(ConnmarkTarget{false}, c);  // --save-mark
  CHECK(c.packet.ctmark == 1337);
  c.packet.mark = 0;
  eval_target(ConnmarkTarget{true}, c);  // --restore-mark
  CHECK(c.packet.mark == 1337);
  eval_target(ConnmarkTarget{false, "0x111/0xfff"}, c);
  CHECK(c.packet.ctmark == ((1337u & ~0xfffu) ^ 0x111u));
  EvalContext raw = out_ctx();
  raw.table = Table::raw;
  CHECK(eval_target(CtZoneTarget{2}, raw).kind == TargetResult::Kind::next);
  CHECK(raw.zone == 2);
}

TEST_CASE("SNAT rewrites the source in nat POSTROUTING") {
  EvalContext c = out_ctx();
  c.hook = Hook::postrouting;
  CHECK(eval_target(SnatTarget{"169.254.7.127"}, c).kind == TargetResult::Kind::accept);
  CHECK(c.packet.src.text() == "169.254.7.127");
  REQUIRE(c.capture);
  CHECK(c.capture->kind == Capture::Kind::snat);
}
