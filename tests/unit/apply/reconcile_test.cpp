// Reconcile on its own: from a table read back and a plan, the table an apply or a cleanup leaves.
// Foreign rules are built by hand here (not by snare's builder), the kernel's encoding is the real
// one (ext/forms.h via the fake), and every expectation is written out, not computed by snare.
#include "apply/reconcile.h"

#include <catch2/catch.hpp>

#include "builder/builder.h"
#include "fakes/config_of.h"
#include "fakes/fake_tables.h"
#include "render/save.h"

using namespace snare;
using snare::testing::FakeTables;
using snare::testing::sidecar_config;

namespace {

Rule udp_return(const std::string& chain) {
  return Rule{Table::nat,
              Scope::both,
              chain,
              0,
              {ProtoMatch{"udp"}, PortMatch{"udp", false, false, "9999"}},
              JumpTarget{"RETURN"}};
}

// The names of the chain's rules' targets, in order: enough to see where foreign rules went.
std::vector<std::string> targets(const TableModel& t, const std::string& chain) {
  std::vector<std::string> out;
  for (const Entry& e : t.find(chain)->entries) {
    if (const auto* j = std::get_if<JumpTarget>(&e.rule->target))
      out.push_back(j->chain);
    else
      out.push_back("other");
  }
  return out;
}

TablePlan plan_nat(FakeTables& fake, const Plan& plan, bool replace) {
  TablePlan tp;
  REQUIRE(fake.read(Family::v4, Table::nat, tp.current).ok());
  REQUIRE(plan_table(plan, replace, tp).ok());
  return tp;
}

}  // namespace

TEST_CASE("a foreign rule before istio's jump stays before it, after it, stays after") {
  FakeTables fake;
  fake.add_foreign(Family::v4, Table::nat, "OUTPUT", udp_return("OUTPUT"));
  Plan plan = build_plan(sidecar_config());
  TablePlan first = plan_nat(fake, plan, false);
  CHECK_FALSE(first.residue);
  CHECK_FALSE(first.same);
  // istio appends (-A OUTPUT -p tcp -j ISTIO_OUTPUT): after the rule that was there.
  CHECK(targets(first.desired, "OUTPUT") == std::vector<std::string>{"RETURN", "ISTIO_OUTPUT"});
  bool committed = false;
  REQUIRE(fake.write(first.desired, committed).ok());

  // Someone appends after istio's jump: not drift, and it keeps its place on a re-run.
  fake.add_foreign(Family::v4, Table::nat, "OUTPUT", udp_return("OUTPUT"));
  TablePlan again = plan_nat(fake, plan, false);
  CHECK(again.residue);
  CHECK(again.same);
  CHECK(targets(again.desired, "OUTPUT") ==
        std::vector<std::string>{"RETURN", "ISTIO_OUTPUT", "RETURN"});
  // Drift in an ISTIO_ chain, replaced with --reconcile: OUTPUT's order still holds.
  fake.add_foreign(Family::v4, Table::nat, "ISTIO_OUTPUT", udp_return("ISTIO_OUTPUT"));
  TablePlan drifted = plan_nat(fake, plan, true);
  CHECK_FALSE(drifted.same);
  CHECK(targets(drifted.desired, "OUTPUT") ==
        std::vector<std::string>{"RETURN", "ISTIO_OUTPUT", "RETURN"});
}

TEST_CASE("a changed ISTIO_ chain is not the same, and desired has the plan's chain") {
  FakeTables fake;
  Plan plan = build_plan(sidecar_config());
  TablePlan first = plan_nat(fake, plan, false);
  bool committed = false;
  REQUIRE(fake.write(first.desired, committed).ok());
  fake.add_foreign(Family::v4, Table::nat, "ISTIO_OUTPUT", udp_return("ISTIO_OUTPUT"));
  TablePlan drifted = plan_nat(fake, plan, false);
  CHECK(drifted.residue);
  CHECK_FALSE(drifted.same);
  CHECK(render_save_table(drifted.desired) == render_save_table(first.desired));
}

TEST_CASE("with --reconcile, istio's jump-less shapes go, a plain apply keeps them in place") {
  FakeTables fake;
  // `-A PREROUTING -i eth9 -j RETURN`: what istio writes for -c eth9, without a jump.
  fake.add_foreign(Family::v4, Table::nat, "PREROUTING",
                   Rule{Table::nat,
                        Scope::both,
                        "PREROUTING",
                        0,
                        {IfaceMatch{false, false, "eth9"}},
                        JumpTarget{"RETURN"}});
  Plan plan = build_plan(sidecar_config());
  CHECK(targets(plan_nat(fake, plan, false).desired, "PREROUTING") ==
        std::vector<std::string>{"RETURN", "ISTIO_INBOUND"});
  CHECK(targets(plan_nat(fake, plan, true).desired, "PREROUTING") ==
        std::vector<std::string>{"ISTIO_INBOUND"});
}

TEST_CASE("cleanup leaves foreign rules and chains, and nothing of the plan's") {
  FakeTables fake;
  fake.add_foreign(Family::v4, Table::nat, "OUTPUT", udp_return("OUTPUT"));
  fake.add_foreign(Family::v4, Table::nat, "FOREIGN", udp_return("FOREIGN"));
  TableModel before;
  REQUIRE(fake.read(Family::v4, Table::nat, before).ok());
  Plan plan = build_plan(sidecar_config());
  TablePlan applied = plan_nat(fake, plan, false);
  bool committed = false;
  REQUIRE(fake.write(applied.desired, committed).ok());

  TablePlan clean;
  REQUIRE(fake.read(Family::v4, Table::nat, clean.current).ok());
  REQUIRE(cleanup_table(plan, clean).ok());
  CHECK(render_save_table(clean.desired) == render_save_table(before));
  CHECK(render_save_table(clean.desired) ==
        "*nat\n"
        ":PREROUTING ACCEPT [0:0]\n"
        ":INPUT ACCEPT [0:0]\n"
        ":OUTPUT ACCEPT [0:0]\n"
        ":POSTROUTING ACCEPT [0:0]\n"
        ":FOREIGN - [0:0]\n"
        "-A OUTPUT -p udp -m udp --dport 9999 -j RETURN\n"
        "-A FOREIGN -p udp -m udp --dport 9999 -j RETURN\n"
        "COMMIT\n");
}

TEST_CASE("istio state the plan only adds to (a run stopped between commits) is told apart") {
  FakeTables fake;
  fake.add_foreign(Family::v4, Table::nat, "OUTPUT", udp_return("OUTPUT"));
  Plan plan = build_plan(sidecar_config());
  // Nothing of istio's yet: the plan only adds.
  CHECK(plan_nat(fake, plan, false).only_adds);
  TablePlan first = plan_nat(fake, plan, false);
  bool committed = false;
  REQUIRE(fake.write(first.desired, committed).ok());
  CHECK(plan_nat(fake, plan, false).only_adds);  // the same: adds nothing

  // ISTIO_OUTPUT without its last rule, and OUTPUT without istio's jump: still a beginning.
  TableModel& nat = fake.tables[{Family::v4, Table::nat}];
  nat.find("ISTIO_OUTPUT")->entries.pop_back();
  TablePlan shorter = plan_nat(fake, plan, false);
  CHECK(shorter.residue);
  CHECK_FALSE(shorter.same);
  CHECK(shorter.only_adds);
  nat.find("OUTPUT")->entries.pop_back();
  CHECK(plan_nat(fake, plan, false).only_adds);

  // A rule the plan does not have in an ISTIO_ chain contradicts it, at the end or in front.
  fake.add_foreign(Family::v4, Table::nat, "ISTIO_OUTPUT", udp_return("ISTIO_OUTPUT"));
  CHECK_FALSE(plan_nat(fake, plan, false).only_adds);
  nat.find("ISTIO_OUTPUT")->entries.pop_back();
  std::vector<Entry>& output = nat.find("ISTIO_OUTPUT")->entries;
  REQUIRE(output.size() > 2);
  std::swap(output[0], output[1]);
  CHECK_FALSE(plan_nat(fake, plan, false).only_adds);
}

TEST_CASE("istio state a plan does not have contradicts it: a chain or a jump of other flags") {
  FakeTables fake;
  fake.add_foreign(Family::v4, Table::nat, "ISTIO_OTHER", udp_return("ISTIO_OTHER"));
  Plan plan = build_plan(sidecar_config());
  CHECK_FALSE(plan_nat(fake, plan, false).only_adds);
  // An empty ISTIO_OUTPUT is a beginning of the plan's; a jump to it from PREROUTING is not.
  FakeTables jump;
  jump.add_foreign(Family::v4, Table::nat, "PREROUTING",
                   Rule{Table::nat, Scope::both, "PREROUTING", 0, {}, JumpTarget{"ISTIO_OUTPUT"}});
  TableModel& nat = jump.tables[{Family::v4, Table::nat}];
  nat.chains.push_back({"ISTIO_OUTPUT", false, "", {}});
  CHECK(plan_nat(jump, plan, false).residue);
  CHECK_FALSE(plan_nat(jump, plan, false).only_adds);
}

TEST_CASE("istio's jump-less builtin rules are recognised by shape, others are not") {
  auto entry = [](Rule r) {
    Entry e;
    e.rule = std::make_shared<const Rule>(std::move(r));
    return e;
  };
  CHECK(is_istio_shape(Table::nat, "PREROUTING",
                       entry({Table::nat,
                              Scope::both,
                              "PREROUTING",
                              0,
                              {IfaceMatch{false, false, "eth9"}},
                              JumpTarget{"RETURN"}})));
  CHECK(is_istio_shape(Table::mangle, "OUTPUT",
                       entry({Table::mangle,
                              Scope::both,
                              "OUTPUT",
                              0,
                              {IfaceMatch{true, false, "eth9"}},
                              JumpTarget{"RETURN"}})));
  CHECK(!is_istio_shape(Table::nat, "OUTPUT",
                        entry({Table::nat,
                               Scope::both,
                               "OUTPUT",
                               0,
                               {IfaceMatch{false, false, "eth9"}},
                               JumpTarget{"RETURN"}})));
  CHECK(is_istio_shape(Table::mangle, "PREROUTING",
                       entry({Table::mangle,
                              Scope::both,
                              "PREROUTING",
                              0,
                              {ProtoMatch{"tcp"}, MarkMatch{false, "0x1"}},
                              ConnmarkTarget{false}})));
  CHECK(is_istio_shape(Table::mangle, "OUTPUT",
                       entry({Table::mangle,
                              Scope::both,
                              "OUTPUT",
                              0,
                              {ProtoMatch{"tcp"}, ConnmarkMatch{"0x1"}},
                              ConnmarkTarget{true}})));
  CHECK(is_istio_shape(
      Table::mangle, "OUTPUT",
      entry({Table::mangle,
             Scope::both,
             "OUTPUT",
             0,
             {IfaceMatch{true, false, "lo"}, ProtoMatch{"tcp"}, MarkMatch{false, "0x539"}},
             JumpTarget{"RETURN"}})));
  CHECK(
      is_istio_shape(Table::mangle, "OUTPUT",
                     entry({Table::mangle,
                            Scope::both,
                            "OUTPUT",
                            0,
                            {AddrMatch{false, true, "127.0.0.1/32"}, IfaceMatch{true, false, "lo"},
                             ProtoMatch{"tcp"}, OwnerMatch{false, false, "1", 1}},
                            MarkTarget{"0x53a"}})));
  CHECK(!is_istio_shape(Table::mangle, "OUTPUT",
                        entry({Table::mangle,
                               Scope::both,
                               "OUTPUT",
                               0,
                               {ProtoMatch{"udp"}, ConnmarkMatch{"0x1"}},
                               ConnmarkTarget{true}})));
  CHECK(!is_istio_shape(Table::raw, "OUTPUT",
                        entry({Table::raw,
                               Scope::both,
                               "OUTPUT",
                               0,
                               {IfaceMatch{true, false, "eth9"}},
                               JumpTarget{"RETURN"}})));
  Entry foreign = entry({Table::nat,
                         Scope::both,
                         "PREROUTING",
                         0,
                         {IfaceMatch{false, false, "eth9"}},
                         JumpTarget{"RETURN"}});
  foreign.unsupported = {"-m comment (rev 0)"};
  CHECK(!is_istio_shape(Table::nat, "PREROUTING", foreign));
}
