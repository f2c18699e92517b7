// The restore form: istio's iptables-restore text, as its builder writes it (the expected text is
// istio's own format, written out by hand here; whole files are compared with istio's goldens by
// golden.istio_forms).
#include "render/restore.h"

#include <catch2/catch.hpp>

using namespace snare;

namespace {

Rule r(Table t, const char* chain, std::vector<Match> m, Target tg, int at = 0,
       Scope s = Scope::both) {
  return Rule{t, s, chain, at, std::move(m), std::move(tg)};
}

}  // namespace

TEST_CASE("a rule: -A or -I N, matches in the builder's order, istio's spellings") {
  CHECK(
      render_restore_rule(r(
          Table::nat, "ISTIO_OUTPUT",
          {IfaceMatch{true, false, "lo"}, AddrMatch{false, true, "127.0.0.1/32"}, ProtoMatch{"tcp"},
           PortMatch{"tcp", false, true, "15008"}, OwnerMatch{false, false, "1337", 1337}},
          JumpTarget{"ISTIO_IN_REDIRECT"})) ==
      "-A ISTIO_OUTPUT -o lo ! -d 127.0.0.1/32 -p tcp ! --dport 15008 -m owner --uid-owner 1337 "
      "-j ISTIO_IN_REDIRECT");
  CHECK(render_restore_rule(r(Table::nat, "PREROUTING", {IfaceMatch{false, false, "eth1"}},
                              JumpTarget{"RETURN"}, 1)) == "-I PREROUTING 1 -i eth1 -j RETURN");
  CHECK(render_restore_rule(r(Table::nat, "ISTIO_OUTPUT_DNS",
                              {ProtoMatch{"udp"}, PortMatch{"udp", false, false, "53"}},
                              RedirectTarget{"15053", true})) ==
        "-A ISTIO_OUTPUT_DNS -p udp --dport 53 -j REDIRECT --to-port 15053");
  CHECK(render_restore_rule(r(Table::mangle, "ISTIO_TPROXY",
                              {AddrMatch{false, true, "::1/128"}, ProtoMatch{"tcp"}},
                              TproxyTarget{"1337", "15006"})) ==
        "-A ISTIO_TPROXY ! -d ::1/128 -p tcp -j TPROXY --tproxy-mark 1337/0xffffffff --on-port "
        "15006");
  CHECK(render_restore_rule(r(Table::mangle, "ISTIO_DIVERT", {}, MarkTarget{"1337"})) ==
        "-A ISTIO_DIVERT -j MARK --set-mark 1337");
}

TEST_CASE("tables alphabetically, chains declared in first use, then jump targets") {
  Plan p;
  p.rules = {r(Table::raw, "OUTPUT", {}, JumpTarget{"ISTIO_OUTPUT_DNS"}),
             r(Table::nat, "ISTIO_INBOUND", {ProtoMatch{"tcp"}}, JumpTarget{"RETURN"}),
             r(Table::nat, "OUTPUT", {}, JumpTarget{"ISTIO_OUTPUT"}),
             r(Table::nat, "ISTIO_REDIRECT", {ProtoMatch{"tcp"}}, RedirectTarget{"15001"}),
             r(Table::raw, "ISTIO_OUTPUT_DNS", {}, CtZoneTarget{1}),
             r(Table::mangle, "ISTIO_DROP", {}, JumpTarget{"DROP"})};
  CHECK(render_restore(p, Family::v4) ==
        "* mangle\n-N ISTIO_DROP\n-A ISTIO_DROP -j DROP\nCOMMIT\n"
        "* nat\n-N ISTIO_INBOUND\n-N ISTIO_REDIRECT\n-N ISTIO_OUTPUT\n"
        "-A ISTIO_INBOUND -p tcp -j RETURN\n-A OUTPUT -j ISTIO_OUTPUT\n"
        "-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15001\nCOMMIT\n"
        "* raw\n-N ISTIO_OUTPUT_DNS\n-A OUTPUT -j ISTIO_OUTPUT_DNS\n"
        "-A ISTIO_OUTPUT_DNS -j CT --zone 1\nCOMMIT\n");
}

TEST_CASE("a family's text holds its rules and those for both, none with IPv6 off") {
  Plan p;
  p.rules = {r(Table::nat, "OUTPUT", {AddrMatch{false, false, "10.0.0.0/8"}}, JumpTarget{"RETURN"},
               0, Scope::v4),
             r(Table::nat, "OUTPUT", {AddrMatch{false, false, "fd00::/8"}}, JumpTarget{"RETURN"}, 0,
               Scope::v6),
             r(Table::nat, "OUTPUT", {}, JumpTarget{"ACCEPT"})};
  p.ipv6 = true;
  CHECK(render_restore(p, Family::v6) ==
        "* nat\n-A OUTPUT -d fd00::/8 -j RETURN\n-A OUTPUT -j ACCEPT\nCOMMIT\n");
  p.ipv6 = false;
  CHECK(render_restore(p, Family::v6).empty());
}
