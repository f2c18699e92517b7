// Save-form details checked against what iptables-save prints (tests/golden/istio/kernel-form/).
#include <catch2/catch.hpp>

#include "ext/header.h"
#include "render/save.h"

using namespace snare;

TEST_CASE("canonical CIDRs clear host bits and compress IPv6, as the kernel stores them") {
  CHECK(canonical_cidr("10.0.0.1/8", Family::v4) == "10.0.0.0/8");
  CHECK(canonical_cidr("127.0.0.53", Family::v4) == "127.0.0.53/32");
  CHECK(canonical_cidr("2001:db8::1/32", Family::v6) == "2001:db8::/32");
  CHECK(canonical_cidr("::127.0.0.53/128", Family::v6) == "::127.0.0.53/128");
  CHECK(canonical_cidr("10.1.2.3/0", Family::v4) == "0.0.0.0/0");
}

TEST_CASE("rule text puts addresses, interfaces and protocol first, marks in hex") {
  Rule r{Table::nat,
         Scope::both,
         "ISTIO_OUTPUT",
         0,
         {IfaceMatch{true, false, "lo"}, AddrMatch{false, true, "127.0.0.1/32"}, ProtoMatch{"tcp"},
          PortMatch{"tcp", false, true, "15008"}, OwnerMatch{false, false, "1337", 1337}},
         JumpTarget{"ISTIO_IN_REDIRECT"}};
  CHECK(render_save_rule(r, Family::v4) ==
        "-A ISTIO_OUTPUT ! -d 127.0.0.1/32 -o lo -p tcp -m tcp ! --dport 15008 -m owner "
        "--uid-owner 1337 -j ISTIO_IN_REDIRECT");
  Rule m{Table::mangle,     Scope::both, "OUTPUT", 0, {ProtoMatch{"tcp"}, MarkMatch{true, "1338"}},
         MarkTarget{"1338"}};
  CHECK(render_save_rule(m, Family::v6) ==
        "-A OUTPUT -p tcp -m mark ! --mark 0x53a -j MARK --set-xmark 0x53a/0xffffffff");
  Rule t{Table::mangle,       Scope::both,
         "ISTIO_TPROXY",      0,
         {ProtoMatch{"tcp"}}, TproxyTarget{"0x539", "15006"}};
  CHECK(
      render_save_rule(t, Family::v6) ==
      "-A ISTIO_TPROXY -p tcp -j TPROXY --on-port 15006 --on-ip :: --tproxy-mark 0x539/0xffffffff");
  Rule u{Table::nat,
         Scope::both,
         "ISTIO_OUTPUT_DNS",
         0,
         {ProtoMatch{"udp"}, PortMatch{"udp", false, false, "53"}},
         RedirectTarget{"15053", true}};
  CHECK(render_save_rule(u, Family::v4) ==
        "-A ISTIO_OUTPUT_DNS -p udp -m udp --dport 53 -j REDIRECT --to-ports 15053");
}
