// Apply, cleanup and verify in native nftables mode (see nft_apply.h).
#include "apply/nft_apply.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>

#include "apply/routing.h"
#include "apply/tables.h"
#include "apply/verify.h"
#include "apply/xt_nft.h"
#include "base/clock.h"
#include "ext/nft_kernel_form.h"
#include "model/nft_form.h"
#include "model/nft_layout.h"
#include "render/diff.h"
#include "render/nft.h"
#include "render/nft_form_json.h"
#include "render/nft_listing.h"

namespace snare {
namespace {

// What the kernel holds of istio's nftables mode: the tables of the plan's rule set (the
// sidecar's istio-proxy-*, or ambient's istio-ambient-*), and which of the other's are there.
struct NftRead {
  std::vector<std::string> present;  // istio tables there, in istio's order
  std::vector<std::string> other;    // the other program's tables there
  NftForm current;
};

// A table with flags, chain by chain: libnftables 1.0.6 prints a table's flags from freed memory
// in its JSON `list table` (a cut listing), but lists a chain alone without the table. istio's
// chains are the ones read; anything else in such a table goes unseen, which is fine: the flags
// alone make it drift, and a re-apply replaces the whole table.
Status read_flagged_table(NftBackend& nft, const std::string& t, NftTableForm& out) {
  out.name = t;
  for (const std::string& c : nft_chain_order(t)) {
    std::string listing;
    NftForm one;
    if (Status s = nft.list_chain(t, c, listing); !s.ok()) {
      if (s.error.find("No such file") != std::string::npos) continue;
      return s;
    }
    if (Status s = nft_form_from_listing(listing, {t}, one); !s.ok()) return s;
    for (NftTableForm& f : one)
      out.chains.insert(out.chains.end(), f.chains.begin(), f.chains.end());
  }
  return Status::Ok();
}

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
  for (const std::string& t : out.present) {
    std::string listing;
    NftForm one;
    if (flags[t] != 0) {
      one.emplace_back();
      if (Status s = read_flagged_table(nft, t, one.back()); !s.ok()) return s;
    } else {
      if (Status s = nft.list_table(t, true, listing); !s.ok()) return s;
      if (Status s = nft_form_from_listing(listing, {t}, one); !s.ok()) return s;
    }
    for (NftTableForm& f : one) f.flags = nft_table_flag_names(flags[t]);
    out.current.insert(out.current.end(), one.begin(), one.end());
  }
  return Status::Ok();
}

// `add` first so that the `delete` cannot fail on a table that went away meanwhile (and with
// it the whole batch).
std::string delete_tables(const std::vector<std::string>& tables) {
  std::string out;
  for (const std::string& t : tables)
    out += fmt::format("add table inet {}\ndelete table inet {}\n", t, t);
  return out;
}

// The object line's kind and name: `set NAME {...}`.
std::pair<std::string, std::string> object_kind_name(const std::string& line) {
  const size_t a = line.find(' '), b = line.find(' ', a + 1);
  return {line.substr(0, a), line.substr(a + 1, b - a - 1)};
}

const IpSet* used_set(const Plan& plan, const std::string& name) {
  for (const IpSet& set : plan.sets)
    if (set.used && set.name == name) return &set;
  return nullptr;
}

// A set the flags use that exists with another definition: `add set` cannot change it, and
// deleting it would lose its members; the operator decides.
Status check_sets(const Plan& plan, const NftRead& st) {
  for (const NftTableForm& t : st.current)
    for (const std::string& o : t.objects) {
      auto [kind, name] = object_kind_name(o);
      const IpSet* set = used_set(plan, name);
      if (!set || (kind == "set" && o == nft_set_object(*set))) continue;
      return Status::Fail(fmt::format(
          "inet {} holds {} {} as {}, not as the set the probe rules need ({}): remove it first "
          "(`nft delete {} inet {} {}`)",
          t.name, kind, name, o.substr(kind.size() + name.size() + 2),
          nft_set_declaration(t.name, *set), kind, t.name, name));
    }
  return Status::Ok();
}

// ambient-host's table keeps its sets and their members (istio-cni's agent adds them): it is
// emptied instead of deleted, as istio does (`flush table`), its sets declared first (the rules
// look them up), and what the flags do not make goes: every chain (added again after this), every
// other object.
std::string empty_keeping_sets(const Plan& plan, const NftRead& st) {
  const std::string table = nft_table_name(plan.rule_set, Table::nat);
  std::string out = fmt::format("add table inet {}\n", table);
  for (const IpSet& set : plan.sets)
    if (set.used) out += nft_set_declaration(table, set) + "\n";
  out += fmt::format("flush table inet {}\n", table);
  for (const NftTableForm& t : st.current) {
    for (const NftChainForm& c : t.chains)
      out += fmt::format("delete chain inet {} {}\n", t.name, c.name);
    for (const std::string& o : t.objects) {
      auto [kind, name] = object_kind_name(o);
      if (kind != "set" || !used_set(plan, name))
        out += fmt::format("delete {} inet {} {}\n", kind, t.name, name);
    }
  }
  return out;
}

// The tables as they are, in nft's input language with their counters: what a rollback loads.
Status snapshot(NftBackend& nft, const std::vector<std::string>& present, std::string& out) {
  for (const std::string& t : present) {
    std::string text;
    if (Status s = nft.list_table(t, false, text); !s.ok()) return s;
    out += text;
  }
  return Status::Ok();
}

// Puts back the istio tables of before the apply, but only when the kernel still holds what this
// apply's own commit wrote: if another writer (istio, an operator, nft) changed them since, loading
// the earlier tables would erase its change, so they are left as they are and the error says so.
// Returns the sentence for the error.
std::string restore_nft(NftBackend& nft, const std::string& before, const Plan& plan,
                        ApplyReport& rep) {
  NftRead now;
  if (Status s = read_istio_tables(nft, plan.rule_set, now); !s.ok())
    return "; the nftables tables were left as they are (reading them back failed: " + s.error +
           "); check them with `snare verify` and re-run the apply";
  if (nft_form_lines(now.current) != nft_form_lines(nft_expected_form(plan)))
    return "; the nftables tables were NOT restored: they changed after this apply's commit (a "
           "concurrent writer), and restoring would erase that change; check them with `snare "
           "verify` and re-run the apply";
  bool committed = false;
  Status s = nft.run(delete_tables(istio_nft_tables(plan.rule_set)) + before, committed);
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
  if (Status s = check_sets(plan, st); !s.ok()) return s;
  t = Clock::now();
  // Why only with tables there: the kernel form of thousands of rules costs more than reading
  // them, and against no istio table at all the answer is known.
  const bool same =
      !st.present.empty() && nft_form_lines(st.current) == nft_form_lines(nft_expected_form(plan));
  const bool write = !same || cfg.force_apply || !legacy.xt.empty();
  std::string before;
  if (write)
    if (Status s = snapshot(*env.nft, st.present, before); !s.ok()) return s;
  rep.build_ms = ms_since(t);
  // iptables-nft's chains go in the nftables transaction, and nft cannot write them back (its
  // language has no xtables matches): so the routes, the one step that could fail after it, come
  // first, and are undone if the transaction fails.
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
  if (write) {
    const std::string before_rules =
        plan.sets.empty() ? delete_tables(st.present) : empty_keeping_sets(plan, st);
    Status s = env.nft->run(
        before_rules + render_nft(plan, /*numeric_ids=*/true) + legacy.xt.removal, nft_done);
    rep.commit_ms = ms_since(t);
    rep.changed |= nft_done;
    if (!s.ok() && routes_first) undo_routes(*env.routes, early);
    if (!s.ok())
      return Status::Fail("nftables transaction: " + s.error +
                          (nft_done ? restore_nft(*env.nft, before, plan, rep) : ""));
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
                          (nft_done ? restore_nft(*env.nft, before, plan, rep) : "") +
                          (legacy.xt.empty() ? "" : "; istio's iptables-nft chains stay removed"));
    }
  }
  if (!env.routes || routes_first) return Status::Ok();
  // Earlier TPROXY routes go too: a re-run replaces what earlier flags set up, like the tables.
  Status s = apply_routes_step(cfg, plan, *env.routes, true, rep);
  if (s.ok()) return s;
  std::string rb = env.legacy ? roll_back(done, *env.legacy, rep) : "";
  if (nft_done) rb += restore_nft(*env.nft, before, plan, rep);
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
    if (Status s = env.nft->run(delete_tables(present) + xt.removal, committed); !s.ok())
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
    diff += diff_nft_forms(st.current, nft_expected_form(plan));
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
