// The builder's decisions, each checked against what istio 1.30's configurators (iptables and
// nftables run.go) do; whole rule sets are compared with istio's goldens by golden.istio_forms.
#include "builder/builder.h"

#include <catch2/catch.hpp>

using namespace snare;

namespace {

Config base() {
  Config c;
  c.proxy_uids = {{"1337", 1337}};
  c.proxy_gids = {{"1337", 1337}};
  return c;
}

std::vector<const Rule*> in_chain(const Plan& p, Table t, const std::string& chain) {
  std::vector<const Rule*> out;
  for (const Rule& r : p.rules)
    if (r.table == t && r.chain == chain) out.push_back(&r);
  return out;
}

template <typename T>
bool has(const Rule& r) {
  for (const Match& m : r.matches)
    if (std::holds_alternative<T>(m)) return true;
  return false;
}

}  // namespace

TEST_CASE("excluded interfaces come first, in nat and (TPROXY) mangle") {
  Config c = base();
  c.exclude_interfaces = {"eth9"};
  c.inbound_ports_all = true;
  Plan p = build_plan(c);
  REQUIRE(!p.rules.empty());
  CHECK(p.rules[0].chain == "PREROUTING");
  CHECK(std::get<IfaceMatch>(p.rules[0].matches[0]).name == "eth9");
  CHECK(p.rules[1].chain == "OUTPUT");
  CHECK(in_chain(p, Table::mangle, "PREROUTING").empty());
  c.mode = InterceptMode::tproxy;
  Plan t = build_plan(c);
  CHECK(t.rules[2].table == Table::mangle);
  CHECK(std::get<IfaceMatch>(t.rules[2].matches[0]).name == "eth9");
}

TEST_CASE("kube-virt interfaces return at the head of nat PREROUTING, and capture with -i '*'") {
  Config c = base();
  c.reroute_interfaces = {"eth1", "eth2"};
  c.outbound_cidrs_all = true;
  Plan p = build_plan(c);
  auto pre = in_chain(p, Table::nat, "PREROUTING");
  REQUIRE(pre.size() == 4);
  for (const Rule* r : pre) CHECK(r->insert_at == 1);  // istio's InsertRule(prerouting, 0)
  CHECK(std::get<JumpTarget>(pre[0]->target).chain == "RETURN");
  CHECK(std::get<JumpTarget>(pre[3]->target).chain == "ISTIO_REDIRECT");
}

TEST_CASE("an owner-group include list is one rule of negated GIDs") {
  Config c = base();
  c.owner_groups_all = false;
  c.owner_groups_include = {{"java", 2020}, {"202", 202}};
  Plan p = build_plan(c);
  int found = 0;
  for (const Rule* r : in_chain(p, Table::nat, "ISTIO_OUTPUT")) {
    if (r->matches.size() != 2) continue;
    const auto* a = std::get_if<OwnerMatch>(&r->matches[0]);
    const auto* b = std::get_if<OwnerMatch>(&r->matches[1]);
    if (!a || !b) continue;
    // The spelling as given (restore prints it) and the number config resolved (the kernel's).
    if (a->gid && a->invert && a->id == "java" && a->number == 2020u && b->gid && b->invert &&
        b->id == "202" && b->number == 202u)
      ++found;
  }
  CHECK(found == 1);
}

TEST_CASE("DNS: the jump to ISTIO_OUTPUT_DNS is per family in iptables, one rule in nftables") {
  Config c = base();
  c.redirect_dns = true;
  c.dns_servers_v4 = {"10.96.0.10"};
  c.ipv6_enabled = true;
  auto jump = [](const Plan& p) {
    for (const Rule* r : in_chain(p, Table::nat, "ISTIO_OUTPUT"))
      if (std::get<JumpTarget>(r->target).chain == "ISTIO_OUTPUT_DNS") return r->scope;
    FAIL("no jump");
    return Scope::both;
  };
  CHECK(jump(build_plan(c)) == Scope::v4);
  c.native_nftables = true;
  CHECK(jump(build_plan(c)) == Scope::both);
}

TEST_CASE("where istio's nftables code writes its rules differently") {
  Config c = base();
  c.drop_invalid = true;
  c.outbound_ports_exclude = {"5555"};
  Plan ipt = build_plan(c);
  c.native_nftables = true;
  Plan nft = build_plan(c);
  CHECK(nft.dialect == Dialect::nftables);
  // drop-invalid: `meta l4proto tcp ct state invalid` (iptables: conntrack INVALID, any proto)
  const Rule* di = in_chain(ipt, Table::mangle, "PREROUTING")[0];
  const Rule* dn = in_chain(nft, Table::mangle, "PREROUTING")[0];
  CHECK_FALSE(has<ProtoMatch>(*di));
  CHECK(has<ProtoMatch>(*dn));
  // -o: `tcp dport 5555 return` without `meta l4proto tcp` (iptables: -p tcp --dport 5555)
  auto first_port_rule = [](const Plan& p) {
    for (const Rule* r : in_chain(p, Table::nat, "ISTIO_OUTPUT"))
      if (has<PortMatch>(*r)) return r;
    return static_cast<const Rule*>(nullptr);
  };
  CHECK(has<ProtoMatch>(*first_port_rule(ipt)));
  CHECK_FALSE(has<ProtoMatch>(*first_port_rule(nft)));
}

TEST_CASE("with IPv6 off no rule is IPv6-only, exclusions keep their order after localhost") {
  Config c = base();
  c.outbound_cidrs_all = true;
  for (int i = 0; i < 2000; ++i)
    c.exclude_cidrs_v4.push_back("10." + std::to_string(i % 250) + ".0.0/16");
  c.exclude_cidrs_v6 = {"fd00::/8"};
  Plan p = build_plan(c);
  for (const Rule& r : p.rules) CHECK(r.scope != Scope::v6);
  auto out = in_chain(p, Table::nat, "ISTIO_OUTPUT");
  size_t lo = 0;
  while (lo < out.size() && !(out[lo]->matches.size() == 1 && has<AddrMatch>(*out[lo]) &&
                              std::get<AddrMatch>(out[lo]->matches[0]).cidr == "127.0.0.1/32"))
    ++lo;
  REQUIRE(lo + 2001 < out.size());
  for (int i = 0; i < 2000; ++i)
    CHECK(std::get<AddrMatch>(out[lo + 1 + i]->matches[0]).cidr == c.exclude_cidrs_v4[i]);
  CHECK(std::get<JumpTarget>(out.back()->target).chain == "ISTIO_REDIRECT");
}

TEST_CASE("TPROXY's marks only in TPROXY mode with inbound capture") {
  Config c = base();
  c.inbound_ports_all = true;
  CHECK(in_chain(build_plan(c), Table::mangle, "ISTIO_DIVERT").empty());
  c.mode = InterceptMode::tproxy;
  Plan p = build_plan(c);
  CHECK(in_chain(p, Table::mangle, "ISTIO_DIVERT").size() == 2);
  // the head of mangle ISTIO_INBOUND: already diverted, passthrough source, app-to-app over lo
  int heads = 0;
  for (const Rule* r : in_chain(p, Table::mangle, "ISTIO_INBOUND")) heads += r->insert_at > 0;
  CHECK(heads == 3);
}
