// The routing half of an apply, cleanup or verify (see routing.h).
#include "apply/routing.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/clock.h"
#include "base/log.h"

namespace snare {
namespace {

const char* ip_cmd(Family f) { return f == Family::v4 ? "ip" : "ip -6"; }

// `fwmark 0x539 lookup 133`, `fwmark 0x111/0xfff pref 32764 lookup 100`: as `ip rule` takes it.
std::string rule_text(const TproxyRoute& r) {
  std::string mark = r.mask == 0xffffffffU ? fmt::format("{:#x}", r.mark)
                                           : fmt::format("{:#x}/{:#x}", r.mark, r.mask);
  return r.priority ? fmt::format("fwmark {} pref {} lookup {}", mark, r.priority, r.table)
                    : fmt::format("fwmark {} lookup {}", mark, r.table);
}

bool contains(const std::vector<std::pair<Family, TproxyRoute>>& v, Family f,
              const TproxyRoute& r) {
  return std::find(v.begin(), v.end(), std::make_pair(f, r)) != v.end();
}

// ambient's routing (istio-cni's constants): what ztunnel delivers carries mark 0x111 and stays
// local through table 100, at a fixed priority.
constexpr TproxyRoute kAmbientRoute{0x111, 100, 0xfff, 32764, true};

// ::6 on lo is the sidecar's inbound passthrough source; ambient has none.
bool needs_passthrough(const Plan& plan) { return plan.ipv6 && plan.rule_set == RuleSet::sidecar; }

// An ambient run's routing in a family its flags no longer enable (IPv6 switched off): istio's
// fixed rule and table, found by their exact shape.
Status stale_ambient_routes(const Plan& plan, RouteOps& routes,
                            std::vector<std::pair<Family, TproxyRoute>>& out) {
  const auto planned = plan_families(plan);
  for (Family f : {Family::v4, Family::v6}) {
    if (std::find(planned.begin(), planned.end(), f) != planned.end()) continue;
    RouteOps::Added present;
    if (Status s = routes.query_tproxy_routes(f, kAmbientRoute, present); !s.ok()) return s;
    if (present.rule || present.route) out.emplace_back(f, kAmbientRoute);
  }
  return Status::Ok();
}

}  // namespace

bool plan_needs_tproxy_routes(const Config& cfg) {
  return cfg.mode == InterceptMode::tproxy && (cfg.inbound_ports_all || !cfg.inbound_ports.empty());
}

bool RouteChanges::any() const {
  return passthrough_added || !removed.empty() ||
         std::any_of(added.begin(), added.end(),
                     [](const Added& a) { return a.parts.rule || a.parts.route; });
}

std::vector<std::pair<Family, TproxyRoute>> needed_routes(const Config& cfg, const Plan& plan) {
  std::vector<std::pair<Family, TproxyRoute>> out;
  if (plan.rule_set == RuleSet::ambient) {
    for (Family f : plan_families(plan)) out.emplace_back(f, kAmbientRoute);
    return out;
  }
  if (!plan_needs_tproxy_routes(cfg)) return out;
  for (Family f : plan_families(plan))
    out.emplace_back(f, TproxyRoute{cfg.tproxy_mark_value, cfg.tproxy_route_table_value});
  return out;
}

Status stale_routes(const Config& cfg, const Plan& plan, RouteOps& routes,
                    std::vector<std::pair<Family, TproxyRoute>>& out) {
  if (plan.rule_set == RuleSet::ambient) return stale_ambient_routes(plan, routes, out);
  // Earlier TPROXY routes are the sidecar's state: an ambient run leaves them to it.
  if (plan.rule_set != RuleSet::sidecar) return Status::Ok();
  const auto needed = needed_routes(cfg, plan);
  for (Family f : {Family::v4, Family::v6}) {
    std::vector<TproxyRoute> found;
    if (Status s = routes.list_tproxy_routes(f, found); !s.ok()) return s;
    for (const TproxyRoute& r : found)
      if (!contains(needed, f, r)) out.emplace_back(f, r);
  }
  return Status::Ok();
}

Status set_up_routes(const Config& cfg, const Plan& plan, RouteOps& routes, bool remove_stale,
                     RouteChanges& ch) {
  for (const auto& [f, r] : needed_routes(cfg, plan)) {
    RouteChanges::Added& a = ch.added.emplace_back(RouteChanges::Added{f, r, {}});
    Status s = routes.add_tproxy_routes(f, r, a.parts);
    if (!s.ok())
      return Status::Fail(fmt::format("{} routes ({}): {}",
                                      plan.rule_set == RuleSet::sidecar ? "TPROXY" : "ambient",
                                      family_name(f), s.error));
  }
  if (needs_passthrough(plan)) {
    Status s = routes.add_passthrough_addr(ch.passthrough_added);
    if (!s.ok()) return Status::Fail(fmt::format("::6/128 on lo: {}", s.error));
  }
  if (!remove_stale) return Status::Ok();
  std::vector<std::pair<Family, TproxyRoute>> stale;
  if (Status s = stale_routes(cfg, plan, routes, stale); !s.ok()) return s;
  for (const auto& [f, r] : stale) {
    if (Status s = routes.del_tproxy_routes(f, r, {true, true}); !s.ok())
      return Status::Fail(fmt::format("removing earlier {} routes ({}): {}",
                                      plan.rule_set == RuleSet::sidecar ? "TPROXY" : "ambient",
                                      family_name(f), s.error));
    ch.removed.emplace_back(f, r);
  }
  return Status::Ok();
}

void undo_routes(RouteOps& routes, const RouteChanges& ch) {
  for (const auto& [f, r] : ch.removed) {
    RouteOps::Added ignored;
    if (Status s = routes.add_tproxy_routes(f, r, ignored); !s.ok())
      log_warn("putting back the earlier {} TPROXY routes: {}", family_name(f), s.error);
  }
  for (const RouteChanges::Added& a : ch.added)
    if (a.parts.rule || a.parts.route)
      if (Status s = routes.del_tproxy_routes(a.family, a.route, a.parts); !s.ok())
        log_warn("undoing the {} TPROXY routes: {}", family_name(a.family), s.error);
  if (ch.passthrough_added)
    if (Status s = routes.del_passthrough_addr(); !s.ok())
      log_warn("removing ::6 from lo: {}", s.error);
}

Status remove_routes(const Config& cfg, const Plan& plan, RouteOps& routes, RouteChanges& ch) {
  std::vector<std::pair<Family, TproxyRoute>> gone = needed_routes(cfg, plan);
  if (Status s = stale_routes(cfg, plan, routes, gone); !s.ok()) return s;
  std::string errors;
  auto note = [&](const std::string& e) { errors += (errors.empty() ? "" : "; ") + e; };
  for (const auto& [f, r] : gone) {
    // Only what is there: a cleanup with nothing to remove reports no change.
    RouteOps::Added present;
    if (Status s = routes.query_tproxy_routes(f, r, present); !s.ok()) return s;
    if (!present.rule && !present.route) continue;
    if (Status s = routes.del_tproxy_routes(f, r, present); !s.ok())
      note(fmt::format("remove TPROXY routes ({}): {}", family_name(f), s.error));
    else
      ch.removed.emplace_back(f, r);
  }
  if (needs_passthrough(plan))
    if (Status s = routes.del_passthrough_addr(); !s.ok())
      note(fmt::format("remove ::6/128 from lo: {}", s.error));
  if (!errors.empty()) return Status::Fail(errors);
  return Status::Ok();
}

Status apply_routes_step(const Config& cfg, const Plan& plan, RouteOps& routes, bool remove_stale,
                         ApplyReport& rep) {
  const auto t = Clock::now();
  RouteChanges changes;
  Status s = set_up_routes(cfg, plan, routes, remove_stale, changes);
  rep.routes_ms = ms_since(t);
  rep.changed |= changes.any();
  if (!s.ok()) undo_routes(routes, changes);
  return s;
}

Status cleanup_routes_step(const Config& cfg, const Plan& plan, RouteOps& routes,
                           ApplyReport& rep) {
  const auto t = Clock::now();
  RouteChanges changes;
  Status s = remove_routes(cfg, plan, routes, changes);
  rep.routes_ms = ms_since(t);
  rep.changed |= changes.any();
  return s;
}

Status routes_drift(const Config& cfg, const Plan& plan, RouteOps& routes, std::string& diff) {
  for (const auto& [f, r] : needed_routes(cfg, plan)) {
    RouteOps::Added present;
    if (Status s = routes.query_tproxy_routes(f, r, present); !s.ok()) return s;
    if (!present.rule) diff += fmt::format("+{} rule {}\n", ip_cmd(f), rule_text(r));
    if (!present.route)
      diff += fmt::format("+{} route local default dev lo table {}\n", ip_cmd(f), r.table);
  }
  std::vector<std::pair<Family, TproxyRoute>> stale;
  if (Status s = stale_routes(cfg, plan, routes, stale); !s.ok()) return s;
  for (const auto& [f, r] : stale)
    diff += fmt::format("-{0} rule {1}\n-{0} route local default dev lo table {2}\n", ip_cmd(f),
                        rule_text(r), r.table);
  if (needs_passthrough(plan)) {
    bool present = false;
    if (Status s = routes.query_passthrough_addr(present); !s.ok()) return s;
    if (!present) diff += "+ip -6 addr ::6/128 dev lo\n";
  }
  return Status::Ok();
}

Status istio_policy_routes(Family f, RouteOps& routes, std::vector<TproxyRoute>& out) {
  if (Status s = routes.list_tproxy_routes(f, out); !s.ok()) return s;
  RouteOps::Added present;
  if (Status s = routes.query_tproxy_routes(f, kAmbientRoute, present); !s.ok()) return s;
  if (present.rule && present.route) out.push_back(kAmbientRoute);
  return Status::Ok();
}

}  // namespace snare
