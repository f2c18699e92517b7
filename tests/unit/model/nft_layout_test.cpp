// The nftables layout of a plan: knftables' insert-or-append, istio's chain order.
#include "model/nft_layout.h"

#include <catch2/catch.hpp>

#include "ext/forms.h"

using namespace snare;

namespace {

Rule rule(const std::string& chain, int insert_at, std::string iface) {
  return Rule{Table::nat,
              Scope::both,
              chain,
              insert_at,
              {IfaceMatch{false, false, std::move(iface)}},
              JumpTarget{"RETURN"}};
}

}  // namespace

TEST_CASE("an insert into an empty chain, or past its end, is an append (istio #58135)") {
  Plan p;
  p.dialect = Dialect::nftables;
  p.rules = {rule("PREROUTING", 1, "eth1"), rule("PREROUTING", 1, "eth2"),
             rule("PREROUTING", 5, "eth3")};
  auto tables = nft_layout(p, entered_chain);
  REQUIRE(tables.size() == 1);
  const auto& ops = tables[0].ops;
  CHECK(ops[0].index == -1);  // empty chain: add
  CHECK(ops[1].index == 0);   // insert ... index 0
  CHECK(ops[2].index == -1);  // index 4 of 2 rules: add
  const auto& rules = tables[0].chains[0].rules;
  REQUIRE(rules.size() == 3);
  CHECK(std::get<IfaceMatch>(rules[0]->matches[0]).name == "eth2");
  CHECK(std::get<IfaceMatch>(rules[1]->matches[0]).name == "eth1");
  CHECK(std::get<IfaceMatch>(rules[2]->matches[0]).name == "eth3");
}

TEST_CASE(
    "chains come in istio's order per table, only those with rules, IPv6 rules with IPv6 on") {
  Plan p;
  p.dialect = Dialect::nftables;
  p.rules = {rule("ISTIO_OUTPUT", 0, "lo"), rule("OUTPUT", 0, "lo"), rule("ISTIO_INBOUND", 0, "x")};
  p.rules.push_back(rule("ISTIO_REDIRECT", 0, "v6only"));
  p.rules.back().scope = Scope::v6;
  auto t = nft_layout(p, entered_chain)[0];
  std::vector<std::string> names;
  for (const auto& c : t.chains) names.push_back(c.name);
  CHECK(names == std::vector<std::string>{"output", "istio-inbound", "istio-output"});
  CHECK(t.chains[0].hook->priority == -100);
  p.ipv6 = true;
  CHECK(nft_layout(p, entered_chain)[0].chains.size() == 4);
}
