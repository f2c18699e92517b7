// Apply, cleanup and verify in native nftables mode (see nft_apply.h).
#include "apply/nft_apply.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <linux/netfilter.h>

#include <algorithm>
#include <map>

#include "apply/routing.h"
#include "apply/tables.h"
#include "apply/verify.h"
#include "apply/xt_nft.h"
#include "base/clock.h"
#include "ext/nft_kernel_form.h"
#include "ext/nft_netlink_form.h"
#include "model/netlink_form.h"
#include "model/nft_layout.h"
#include "render/diff.h"
#include "render/netlink_diff.h"

namespace snare {
namespace {

// What the kernel holds of istio's nftables mode: the tables of the plan's rule set (the
// sidecar's istio-proxy-*, or ambient's istio-ambient-*), and which of the other's are there.
struct NftRead {
  std::vector<std::string> present;  // istio tables there, in istio's order
  std::vector<std::string> other;    // the other program's tables there
  NlForm current;                    // the present tables, dumped over netlink
};

Status read_istio_tables(NftBackend& nft, RuleSet rs, NftRead& out) {
  std::vector<std::string> names;
  std::map<std::string, uint32_t> flags;
  if (Status s = nft.inet_tables(names, flags); !s.ok()) return s;
  auto there = [&](const std::string& t) {
    return std::find(names.begin(), names.end(), t) != names.end();
  };
  for (const std::string& t : istio_nft_tables(rs))
    if (there(t)) out.present.push_back(t);
  const RuleSet other = rs == RuleSet::sidecar ? RuleSet::ambient : RuleSet::sidecar;
  for (const std::string& t : istio_nft_tables(other))
    if (there(t)) out.other.push_back(t);
  if (out.present.empty()) return Status::Ok();
  return nft.read_netlink(NFPROTO_INET, out.present, out.current);
}

bool same_tables(const NlForm& a, const NlForm& b) {
  return netlink_normal_form(a) == netlink_normal_form(b);
}

// Every table goes, whether or not it is still there when the batch runs.
void delete_tables(const std::vector<std::string>& tables, NlBatch& out) {
  for (const std::string& t : tables) out.push_back(NlDeleteTable{NFPROTO_INET, t});
}

const NlSet* expected_set(const NlForm& expected, const std::string& name) {
  for (const NlTable& t : expected)
    for (const NlSet& set : t.sets)
      if (set.name == name) return &set;
  return nullptr;
}

// A set the flags use that exists with another definition: adding it cannot change it, and
// deleting it would lose its members; the operator decides.
Status check_sets(const Plan& plan, const NlForm& expected, const NftRead& st) {
  for (const NlTable& t : st.current)
    for (const NlSet& set : t.sets) {
      const NlSet* want = expected_set(expected, set.name);
      if (!want || set == *want) continue;
      const IpSet* used = nullptr;
      for (const IpSet& s : plan.sets)
        if (s.used && s.name == set.name) used = &s;
      return Status::Fail(fmt::format(
          "inet {} holds set {} as {}, not as the set the probe rules need ({}): remove it first "
          "(`nft delete set inet {} {}`)",
          t.name, set.name, netlink_set_text(set),
          used ? nft_set_declaration(t.name, *used) : netlink_set_text(*want), t.name, set.name));
    }
  return Status::Ok();
}

// ambient-host's table keeps its sets and their members (istio-cni's agent adds them): it is
// emptied instead of deleted, as istio does (`flush table`), its sets declared first (the rules
// look them up), and what the flags do not make goes: every chain (added again after this), every
// other object.
void empty_keeping_sets(const NlForm& expected, const NlForm& current, NlBatch& out) {
  for (const NlTable& t : expected) {
    NlTable sets_only{t.name, t.family, 0, {}, t.sets, {}};
    out.push_back(NlAddTable{std::move(sets_only)});
    out.push_back(NlFlushTable{t.family, t.name});
  }
  for (const NlTable& t : current) {
    for (const NlChain& c : t.chains) out.push_back(NlDeleteChain{t.family, t.name, c.name});
    for (const NlSet& set : t.sets)
      if (!expected_set(expected, set.name))
        out.push_back(NlDeleteObject{t.family, t.name, "set", set.name});
    for (const std::string& o : t.objects) {
      const size_t sp = o.find(' ');
      out.push_back(NlDeleteObject{t.family, t.name, o.substr(0, sp), o.substr(sp + 1)});
    }
  }
}

// What clears the rule set's tables before the flags' are written: their deletion, or for a plan
// with sets, emptying them around the sets.
NlBatch clear_tables(const Plan& plan, const NlForm& expected, const NftRead& st) {
  NlBatch out;
  if (plan.sets.empty())
    delete_tables(st.present, out);
  else
    empty_keeping_sets(expected, st.current, out);
  return out;
}

// Puts back the istio tables of before the apply (as they were read: chains, rules and sets;
// counters start again at zero), but only when the kernel still holds what this apply's own
// commit wrote: if another writer (istio, an operator, nft) changed them since, writing the
// earlier tables would erase its change, so they are left as they are and the error says so.
// Returns the sentence for the error.
std::string restore_nft(NftBackend& nft, const NftRead& before, const Plan& plan,
                        const NlForm& expected, ApplyReport& rep) {
  NftRead now;
  if (Status s = read_istio_tables(nft, plan.rule_set, now); !s.ok())
    return "; the nftables tables were left as they are (reading them back failed: " + s.error +
           "); check them with `snare verify` and re-run the apply";
  if (!same_tables(now.current, expected))
    return "; the nftables tables were NOT restored: they changed after this apply's commit (a "
           "concurrent writer), and restoring would erase that change; check them with `snare "
           "verify` and re-run the apply";
  NlBatch batch = clear_tables(plan, expected, now);
  for (const NlTable& t : before.current) batch.push_back(NlAddTable{t});
  bool committed = false;
  Status s = nft.write_netlink(batch, committed);
  rep.rolled_back = true;
  return s.ok() ? "; nftables tables restored"
                : "; restoring the nftables tables failed too: " + s.error;
}

// Earlier istio state of the other back-ends: istio's part of each legacy x_tables table, and its
// chains in iptables-nft's ip/ip6 tables, which --reconcile removes.
struct LegacyState {
  std::vector<TableWork> work;
  std::vector<std::string> found;  // "ipv4 nat (ISTIO_INBOUND, ISTIO_OUTPUT)"
  XtIstio xt;
};

Status read_legacy(NftBackend& nft, TablesBackend* legacy, LegacyState& out) {
  if (Status s = read_xt_istio(nft, out.xt); !s.ok()) return s;
  if (!legacy) return Status::Ok();
  if (Status s = read_tables(*legacy, out.work); !s.ok()) return s;
  const Plan none;  // no rules: what stays of a table is everything that is not istio's
  for (TableWork& w : out.work) {
    if (Status s = plan_table(none, true, w.tp); !s.ok()) return s;
    w.commit = !w.tp.same;
    if (!w.tp.residue) continue;
    std::vector<std::string> chains;
    for (const Chain& c : w.tp.current.chains)
      if (is_istio_chain(c.name)) chains.push_back(c.name);
    out.found.push_back(fmt::format("{} {} ({})", family_name(w.tp.current.family),
                                    table_name(w.tp.current.table), fmt::join(chains, ", ")));
  }
  return Status::Ok();
}

Status refuse_legacy(const Plan& plan, const LegacyState& legacy) {
  std::string where;
  if (!legacy.found.empty())
    where = fmt::format("the legacy iptables back-end holds istio rules ({})",
                        fmt::join(legacy.found, "; "));
  if (!legacy.xt.empty())
    where += fmt::format("{}iptables-nft's tables hold istio rules ({})", where.empty() ? "" : "; ",
                         fmt::join(legacy.xt.found, "; "));
  if (plan.rule_set != RuleSet::sidecar)
    return Status::Fail(fmt::format(
        "{}; nftables rules next to them would be a second capture rule set on every packet. "
        "Remove them first with `snare {} clean` (or `snare clean`) and the flags that made "
        "them, without --native-nftables",
        where, plan.rule_set == RuleSet::ambient_host ? "ambient-host" : "ambient"));
  return Status::Fail(fmt::format(
      "{}; nftables rules next to them would be a second capture rule set on every packet. Rerun "
      "with --reconcile to move to nftables (removes istio's earlier rules only, all or nothing), "
      "or remove them first with `snare clean` and the old flags, without --native-nftables",
      where));
}

// Sidecar and ambient tables in one namespace would capture the same traffic twice.
Status refuse_other(const Plan& plan, const NftRead& st) {
  const bool ambient = plan.rule_set != RuleSet::sidecar;
  return Status::Fail(fmt::format(
      "this network namespace holds istio's {} nftables tables ({}); {} rules next to them would "
      "capture the same traffic twice. Remove them first (`snare {}clean --native-nftables`)",
      ambient ? "sidecar" : "ambient", fmt::join(st.other, ", "), ambient ? "ambient" : "sidecar",
      ambient ? "" : "ambient "));
}

std::string tables_label(const Plan& plan) {
  return plan.rule_set == RuleSet::sidecar ? "inet/istio-proxy-*" : "inet/istio-ambient-*";
}

size_t rule_count(const Plan& plan) {
  return static_cast<size_t>(std::count_if(plan.rules.begin(), plan.rules.end(),
                                           [&](const Rule& r) { return nft_writes(plan, r); }));
}

}  // namespace

Status nft_apply_plan(const Config& cfg, const Plan& plan, NftEnv& env, ApplyReport& rep) {
  auto t = Clock::now();
  NftRead st;
  LegacyState legacy;
  if (Status s = read_istio_tables(*env.nft, plan.rule_set, st); !s.ok()) return s;
  if (Status s = read_legacy(*env.nft, env.legacy, legacy); !s.ok()) return s;
  rep.read_ms = ms_since(t);
  if (!st.other.empty()) return refuse_other(plan, st);
  if ((!legacy.found.empty() || !legacy.xt.empty()) && !cfg.reconcile)
    return refuse_legacy(plan, legacy);
  t = Clock::now();
  NlForm expected = nft_netlink_form(plan, /*numeric_ids=*/true);
  if (Status s = check_sets(plan, expected, st); !s.ok()) return s;
  const bool same = !st.present.empty() && same_tables(st.current, expected);
  const bool write = !same || cfg.force_apply || !legacy.xt.empty();
  rep.build_ms = ms_since(t);
  // iptables-nft's chains go in the nftables transaction, and nothing can write them back (their
  // xtables matches are iptables-nft's): so the routes, the one step that could fail after it,
  // come first, and are undone if the transaction fails.
  RouteChanges early;
  const bool routes_first = !legacy.xt.empty() && env.routes;
  if (routes_first)
    if (Status s = set_up_routes(cfg, plan, *env.routes, true, early); !s.ok()) {
      undo_routes(*env.routes, early);
      return s;
    }
  rep.changed |= early.any();
  t = Clock::now();
  bool nft_done = false;
  // The batch takes the flags' tables by move (thousands of rules are worth not copying); a
  // rollback, rare, gets them back from it.
  NlBatch batch;
  size_t first_table = 0;
  auto written = [&] {
    NlForm out;
    for (size_t i = first_table; i < first_table + expected.size(); ++i)
      out.push_back(std::get<NlAddTable>(batch[i]).table);
    return out;
  };
  auto restore = [&] { return restore_nft(*env.nft, st, plan, written(), rep); };
  if (write) {
    batch = clear_tables(plan, expected, st);
    first_table = batch.size();
    for (NlTable& table : expected) batch.push_back(NlAddTable{std::move(table)});
    batch.insert(batch.end(), legacy.xt.removal.begin(), legacy.xt.removal.end());
    Status s = env.nft->write_netlink(batch, nft_done);
    rep.commit_ms = ms_since(t);
    rep.changed |= nft_done;
    if (!s.ok() && routes_first) undo_routes(*env.routes, early);
    if (!s.ok())
      return Status::Fail("nftables transaction: " + s.error + (nft_done ? restore() : ""));
    rep.committed.push_back(tables_label(plan));
    rep.rules = rule_count(plan);
  }
  // Migration: istio's legacy rules go after the nftables ones are in (no moment without capture).
  std::vector<TableWork*> done;
  if (!legacy.found.empty()) {
    std::vector<TableWork*> order;  // nat first, as a cleanup: capture stops before its helpers
    for (auto it = legacy.work.rbegin(); it != legacy.work.rend(); ++it) order.push_back(&*it);
    if (Status s = commit_or_roll_back(order, *env.legacy, rep, done); !s.ok()) {
      if (routes_first) undo_routes(*env.routes, early);
      // The one case that cannot be put back whole: nft cannot write iptables-nft's rules.
      return Status::Fail("removing istio's legacy rules: " + s.error +
                          (nft_done ? restore() : "") +
                          (legacy.xt.empty() ? "" : "; istio's iptables-nft chains stay removed"));
    }
  }
  if (!env.routes || routes_first) return Status::Ok();
  // Earlier TPROXY routes go too: a re-run replaces what earlier flags set up, like the tables.
  Status s = apply_routes_step(cfg, plan, *env.routes, true, rep);
  if (s.ok()) return s;
  std::string rb = env.legacy ? roll_back(done, *env.legacy, rep) : "";
  if (nft_done) rb += restore();
  return Status::Fail(s.error + rb);
}

Status nft_cleanup_plan(const Config& cfg, const Plan& plan, NftEnv& env, ApplyReport& rep) {
  auto t = Clock::now();
  std::vector<std::string> names, present;
  std::map<std::string, uint32_t> flags;
  if (Status s = env.nft->inet_tables(names, flags); !s.ok()) return s;
  for (const std::string& n : istio_nft_tables(plan.rule_set))
    if (std::find(names.begin(), names.end(), n) != names.end()) present.push_back(n);
  XtIstio xt;  // istio's iptables-nft chains capture too: clean takes them in the same transaction
  if (Status s = read_xt_istio(*env.nft, xt); !s.ok()) return s;
  rep.read_ms = ms_since(t);
  t = Clock::now();
  if (!present.empty() || !xt.empty()) {
    bool committed = false;
    NlBatch batch;
    delete_tables(present, batch);
    batch.insert(batch.end(), xt.removal.begin(), xt.removal.end());
    if (Status s = env.nft->write_netlink(batch, committed); !s.ok())
      return Status::Fail("nftables transaction: " + s.error);
    rep.committed.push_back(tables_label(plan));
    rep.changed = true;
  }
  rep.commit_ms = ms_since(t);
  if (!env.routes) return Status::Ok();
  if (Status s = cleanup_routes_step(cfg, plan, *env.routes, rep); !s.ok())
    return Status::Fail("tables removed, but " + s.error);
  return Status::Ok();
}

int nft_verify_plan(const Config& cfg, const Plan& plan, NftEnv& env, std::string& diff,
                    std::string& error) {
  NftRead st;
  LegacyState legacy;
  Status s = read_istio_tables(*env.nft, plan.rule_set, st);
  if (s.ok()) s = read_legacy(*env.nft, env.legacy, legacy);
  if (s.ok()) {
    const NlForm expected = nft_netlink_form(plan, /*numeric_ids=*/true);
    diff += diff_netlink_forms(st.current, expected);
    // Why: the text shows what a rule does, not every byte the kernel compares (a set's
    // userdata, say); the data decide, the text only explains.
    if (diff.empty() && !same_tables(st.current, expected))
      diff +=
          "# inet: istio's tables differ from what these flags create in what the text above "
          "does not show (a set's userdata or description); a re-apply replaces them\n";
    if (!legacy.xt.empty())
      diff += "# iptables-nft: istio rules next to these (--reconcile or clean removes them)\n" +
              legacy.xt.drift;
    for (const TableWork& w : legacy.work)
      if (w.tp.residue)
        diff +=
            "# legacy iptables: istio rules next to the nftables ones (--reconcile moves them)\n" +
            diff_tables(w.tp.current, w.tp.desired);
  }
  return verify_outcome(s, cfg, plan, env.routes, diff, error);
}

}  // namespace snare
