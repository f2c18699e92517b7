// Interface names in nftables mode: the nft text (ext/header.cpp's nft form) and the statement
// JSON nft lists for it, for names istio's goldens have and for names with characters nft's
// language gives a meaning to. The expected strings are written by hand (the text) and copied
// from `nft -j list ruleset` (the JSON).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "ext/forms.h"
#include "render/nft.h"

using namespace snare;
using nlohmann::json;

namespace {

Rule rule(const std::string& chain, int, std::string iface) {
  return Rule{
      Table::nat,          Scope::both, chain, 0, {IfaceMatch{false, false, std::move(iface)}},
      JumpTarget{"RETURN"}};
}

}  // namespace

TEST_CASE("interface names keep their iptables meaning and stay whole in nft's language") {
  Plan p;
  p.dialect = Dialect::nftables;
  p.rules = {
      rule("PREROUTING", 0, "eth0"), rule("PREROUTING", 0, "lo"), rule("PREROUTING", 0, "x#"),
      rule("PREROUTING", 0, "x;"),   rule("PREROUTING", 0, "x}"), rule("PREROUTING", 0, "x$"),
      rule("PREROUTING", 0, "eth+"), rule("PREROUTING", 0, "x*"), rule("PREROUTING", 0, "counter")};
  std::vector<std::string> want = {
      // istio's spelling for plain names (its goldens), quoted otherwise: written by hand.
      "iifname eth0 counter return",       "iifname lo counter return",
      "iifname \"x#\" counter return",     "iifname \"x;\" counter return",
      "iifname \"x}\" counter return",     "iifname \"x$\" counter return",
      "iifname \"eth*\" counter return",   "iifname \"x\\*\" counter return",
      "iifname \"counter\" counter return"};
  // What nft lists for them (the strings in `nft -j list ruleset`).
  std::vector<std::string> listed = {"eth0", "lo",   "x#",   "x;",     "x}",
                                     "x$",   "eth*", "x\\*", "counter"};
  for (size_t i = 0; i < p.rules.size(); ++i) {
    CHECK(render_nft_statements(p.rules[i]) == want[i]);
    json expr;
    nft_exprs(p.rules[i], expr);
    CHECK(expr[0]["match"]["right"] == listed[i]);
  }
}
