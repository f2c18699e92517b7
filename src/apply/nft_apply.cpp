// Apply, cleanup and verify in native nftables mode (see nft_apply.h).
#include "apply/nft_apply.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>

#include "apply/routing.h"
#include "apply/tables.h"
#include "model/nft_form.h"
#include "model/nft_layout.h"
#include "render/diff.h"
#include "render/nft.h"
#include "render/nft_listing.h"

namespace snare {
namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// What the kernel holds of istio's nftables mode: the tables of the plan's rule set (the
// sidecar's istio-proxy-*, or ambient's istio-ambient-*), and which of the other's are there.
struct NftRead {
  std::vector<std::string> present;  // istio tables there, in istio's order
  std::vector<std::string> other;    // the other program's tables there
  NftForm current;
};

Status read_istio_tables(NftBackend& nft, RuleSet rs, NftRead& out) {
  std::vector<std::string> names;
  if (Status s = nft.inet_tables(names); !s.ok()) return s;
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
    if (Status s = nft.list_table(t, true, listing); !s.ok()) return s;
    if (Status s = nft_form_from_listing(listing, {t}, one); !s.ok()) return s;
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

// The tables as they are, in nft's input language with their counters: what a rollback loads.
Status snapshot(NftBackend& nft, const std::vector<std::string>& present, std::string& out) {
  for (const std::string& t : present) {
    std::string text;
    if (Status s = nft.list_table(t, false, text); !s.ok()) return s;
    out += text;
  }
  return Status::Ok();
}

// Puts back the istio tables of before the apply. Returns "" or what failed.
std::string restore_nft(NftBackend& nft, RuleSet rs, const std::string& before, ApplyReport& rep) {
  bool committed = false;
  Status s = nft.run(delete_tables(istio_nft_tables(rs)) + before, committed);
  rep.rolled_back = true;
  return s.ok() ? "; nftables tables restored"
                : "; restoring the nftables tables failed too: " + s.error;
}

// Legacy x_tables state: istio's part of each table, which --reconcile removes.
struct LegacyState {
  std::vector<TableWork> work;
  std::vector<std::string> found;  // "ipv4 nat (ISTIO_INBOUND, ISTIO_OUTPUT)"
};

Status read_legacy(TablesBackend& legacy, LegacyState& out) {
  if (Status s = read_tables(legacy, out.work); !s.ok()) return s;
  const Plan none;  // no rules: what stays of a table is everything that is not istio's
  for (TableWork& w : out.work) {
    if (Status s = plan_table(none, true, legacy, w.tp); !s.ok()) return s;
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
  if (plan.rule_set != RuleSet::sidecar)
    return Status::Fail(fmt::format(
        "the legacy iptables back-end holds istio rules ({}); nftables rules next to them would "
        "be a second capture rule set on every packet. Remove them first with `snare ambient "
        "clean` (or `snare clean`) and the flags that made them, without --native-nftables",
        fmt::join(legacy.found, "; ")));
  return Status::Fail(fmt::format(
      "the legacy iptables back-end holds istio rules ({}); nftables rules next to them would be "
      "a second capture rule set on every packet. Rerun with --reconcile to move to nftables "
      "(removes istio's legacy rules only, all or nothing), or remove them first with `snare "
      "clean` and the old flags, without --native-nftables",
      fmt::join(legacy.found, "; ")));
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
  if (env.legacy)
    if (Status s = read_legacy(*env.legacy, legacy); !s.ok()) return s;
  rep.read_ms = ms_since(t);
  if (!st.other.empty()) return refuse_other(plan, st);
  if (!legacy.found.empty() && !cfg.reconcile) return refuse_legacy(plan, legacy);
  t = Clock::now();
  // Why only with tables there: the kernel form of thousands of rules costs more than reading
  // them, and against no istio table at all the answer is known.
  const bool same =
      !st.present.empty() && nft_form_lines(st.current) == nft_form_lines(nft_expected_form(plan));
  std::string before;
  if (!same || cfg.force_apply)
    if (Status s = snapshot(*env.nft, st.present, before); !s.ok()) return s;
  rep.build_ms = ms_since(t);
  t = Clock::now();
  bool nft_done = false;
  if (!same || cfg.force_apply) {
    Status s = env.nft->run(delete_tables(st.present) + render_nft(plan), nft_done);
    rep.commit_ms = ms_since(t);
    if (!s.ok())
      return Status::Fail("nftables transaction: " + s.error +
                          (nft_done ? restore_nft(*env.nft, plan.rule_set, before, rep) : ""));
    rep.committed.push_back(tables_label(plan));
    rep.rules = rule_count(plan);
  }
  rep.changed = nft_done;
  // Migration: istio's legacy rules go after the nftables ones are in (no moment without capture).
  std::vector<TableWork*> done;
  if (!legacy.found.empty()) {
    std::vector<TableWork*> order;  // nat first, as a cleanup: capture stops before its helpers
    for (auto it = legacy.work.rbegin(); it != legacy.work.rend(); ++it) order.push_back(&*it);
    if (Status s = commit_or_roll_back(order, *env.legacy, rep, done); !s.ok())
      return Status::Fail("removing istio's legacy rules: " + s.error +
                          (nft_done ? restore_nft(*env.nft, plan.rule_set, before, rep) : ""));
  }
  rep.changed |= nft_done;
  if (!env.routes) return Status::Ok();
  // Earlier TPROXY routes go too: a re-run replaces what earlier flags set up, like the tables.
  Status s = apply_routes_step(cfg, plan, *env.routes, true, rep);
  if (s.ok()) return s;
  std::string rb = env.legacy ? roll_back(done, *env.legacy, rep) : "";
  if (nft_done) rb += restore_nft(*env.nft, plan.rule_set, before, rep);
  return Status::Fail(s.error + rb);
}

Status nft_cleanup_plan(const Config& cfg, const Plan& plan, NftEnv& env, ApplyReport& rep) {
  auto t = Clock::now();
  std::vector<std::string> names, present;
  if (Status s = env.nft->inet_tables(names); !s.ok()) return s;
  for (const std::string& n : istio_nft_tables(plan.rule_set))
    if (std::find(names.begin(), names.end(), n) != names.end()) present.push_back(n);
  rep.read_ms = ms_since(t);
  t = Clock::now();
  if (!present.empty()) {
    bool committed = false;
    if (Status s = env.nft->run(delete_tables(present), committed); !s.ok())
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
  if (s.ok() && env.legacy) s = read_legacy(*env.legacy, legacy);
  if (s.ok()) {
    diff += diff_nft_forms(st.current, nft_expected_form(plan));
    for (const TableWork& w : legacy.work)
      if (w.tp.residue)
        diff +=
            "# legacy iptables: istio rules next to the nftables ones (--reconcile moves them)\n" +
            diff_tables(w.tp.current, w.tp.desired);
  }
  return verify_outcome(s, cfg, plan, env.routes, diff, error);
}

}  // namespace snare
