// replay: the -A/-I semantics of iptables (`-I CHAIN N` inserts before the Nth rule, 1-based;
// past the end it appends) and of chain creation (istio's -N for every chain used or jumped to).
#include "model/table.h"

#include <catch2/catch.hpp>

#include "ext/forms.h"

using namespace snare;

namespace {

Rule rule(const char* chain, const char* target, int insert_at = 0, Scope scope = Scope::both) {
  return Rule{Table::nat, scope, chain, insert_at, {}, JumpTarget{target}};
}

std::vector<std::string> targets(const TableModel& t, const std::string& chain) {
  std::vector<std::string> out;
  for (const Entry& e : t.find(chain)->entries)
    out.push_back(std::get<JumpTarget>(e.rule->target).chain);
  return out;
}

}  // namespace

TEST_CASE("iptables -I N inserts before the Nth rule, and past the end appends") {
  Plan p;
  p.rules = {rule("OUTPUT", "A"), rule("OUTPUT", "B"), rule("OUTPUT", "C", 1),
             rule("OUTPUT", "D", 2), rule("OUTPUT", "E", 99)};
  TableModel t = empty_table(Family::v4, Table::nat);
  replay(p, entered_chain, t);
  CHECK(targets(t, "OUTPUT") == std::vector<std::string>{"C", "D", "A", "B", "E"});
}

TEST_CASE("rules go after what a chain already holds, -I goes before it") {
  TableModel t = empty_table(Family::v4, Table::nat);
  t.find("PREROUTING")
      ->entries.push_back(
          Entry{std::make_shared<const Rule>(rule("PREROUTING", "FOREIGN")), {}, {}, false});
  Plan p;
  p.rules = {rule("PREROUTING", "MINE"), rule("PREROUTING", "HEAD", 1)};
  replay(p, entered_chain, t);
  CHECK(targets(t, "PREROUTING") == std::vector<std::string>{"HEAD", "FOREIGN", "MINE"});
  CHECK_FALSE(t.find("PREROUTING")->entries[1].planned);
  CHECK(t.find("PREROUTING")->entries[0].planned);
}

TEST_CASE("user chains exist from their first rule or jump, sorted after the builtins") {
  Plan p;
  p.rules = {rule("OUTPUT", "ISTIO_OUTPUT"), rule("ISTIO_REDIRECT", "RETURN"),
             rule("ISTIO_INBOUND", "ACCEPT")};
  TableModel t = empty_table(Family::v4, Table::nat);
  replay(p, entered_chain, t);
  std::vector<std::string> names;
  for (const Chain& c : t.chains) names.push_back(c.name);
  CHECK(names == std::vector<std::string>{"PREROUTING", "INPUT", "OUTPUT", "POSTROUTING",
                                          "ISTIO_INBOUND", "ISTIO_OUTPUT", "ISTIO_REDIRECT"});
  CHECK(t.find("ISTIO_OUTPUT")->entries.empty());  // jumped to, no rule of its own
}

TEST_CASE("a builtin chain the table lacks is made, not dereferenced") {
  TableModel t{Family::v4, Table::nat, false, {}};
  Plan p;
  p.rules = {rule("OUTPUT", "RETURN", 1)};
  replay(p, entered_chain, t);
  REQUIRE(t.find("OUTPUT"));
  CHECK(t.find("OUTPUT")->builtin);
  CHECK(t.find("OUTPUT")->policy == "ACCEPT");
}

TEST_CASE("a family's rules only, no IPv6 rule set with IPv6 off, nftables takes both") {
  Plan p;
  p.rules = {rule("OUTPUT", "BOTH"), rule("OUTPUT", "FOUR", 0, Scope::v4),
             rule("OUTPUT", "SIX", 0, Scope::v6)};
  p.ipv6 = true;
  TableModel v6 = empty_table(Family::v6, Table::nat);
  replay(p, entered_chain, v6);
  CHECK(targets(v6, "OUTPUT") == std::vector<std::string>{"BOTH", "SIX"});
  p.ipv6 = false;
  TableModel off = empty_table(Family::v6, Table::nat);
  replay(p, entered_chain, off);
  CHECK(targets(off, "OUTPUT").empty());
  p.dialect = Dialect::nftables;
  p.ipv6 = true;
  TableModel inet = empty_table(Family::v4, Table::nat);
  replay(p, entered_chain, inet);
  CHECK(targets(inet, "OUTPUT") == std::vector<std::string>{"BOTH", "FOUR", "SIX"});
}

TEST_CASE("16,000 inserts at the head come out in reverse order") {
  // istio's -k interfaces: each `-I PREROUTING 1`. (Linear time: bench/lists.sh measures it.)
  Plan p;
  for (int i = 0; i < 16000; ++i) p.rules.push_back(rule("PREROUTING", "RETURN", 1));
  p.rules.push_back(rule("PREROUTING", "LAST"));
  TableModel t = empty_table(Family::v4, Table::nat);
  replay(p, entered_chain, t);
  const auto& e = t.find("PREROUTING")->entries;
  REQUIRE(e.size() == 16001);
  CHECK(e.front().rule.get() == &p.rules[15999]);
  CHECK(e[15999].rule.get() == &p.rules[0]);
  CHECK(e.back().rule.get() == &p.rules[16000]);
}
