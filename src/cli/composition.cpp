// The composition root of the rule commands (see composition.h): the kernel-facing parts wired
// into the CLI's Commands. Both mains use it.
#include "cli/composition.h"

#include <fmt/format.h>
#include <netlink/version.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

#include "apply/fault.h"
#include "apply/probe.h"
#include "apply/routing.h"
#include "apply/run.h"
#include "base/log.h"
#include "base/parse.h"
#include "build_info.h"
#include "cli/proxy_main.h"
#include "config/fill_config.h"
#include "config/host_facts.h"
#include "kernel/ipset.h"
#include "kernel/nft_backend.h"
#include "kernel/nft_detect.h"
#include "kernel/nft_trace.h"
#include "kernel/privileges.h"
#include "kernel/routes.h"
#include "kernel/tables.h"
#include "kernel/xtables_lock.h"
#include "model/nft_layout.h"
#include "probe/validation.h"
#include "render/save.h"

namespace {

// The x_tables backend; SNARE_FAULT_AFTER_COMMITS (tests only) wraps it in the fault decorator.
std::unique_ptr<snare::TablesBackend> tables() {
  auto backend = snare::make_iptc_backend();
  if (auto n = snare::fault_after_commits(std::getenv("SNARE_FAULT_AFTER_COMMITS")))
    return std::make_unique<snare::FaultInjectingTables>(std::move(backend), *n);
  return backend;
}

// The nftables backend, likewise; in nftables mode the fault knob counts its transactions.
std::unique_ptr<snare::NftBackend> nft() {
  auto backend = snare::make_libnftables_backend();
  if (auto n = snare::fault_after_commits(std::getenv("SNARE_FAULT_AFTER_COMMITS")))
    return std::make_unique<snare::FaultInjectingNft>(std::move(backend), *n);
  return backend;
}

// The OS parts of a rule command besides its backends: capabilities, nftables detection, the
// xtables lock and the nftables apply lock, libnl.
snare::RunSeams seams() {
  auto locks = std::make_shared<std::vector<snare::XtablesLock>>();
  snare::RunSeams s;
  s.check_capability = [] { return snare::check_net_admin(); };
  s.nft_tables = snare::list_nft_tables;
  s.lock = [locks](const std::string& what, const std::string& path,
                   std::chrono::milliseconds timeout, double& waited) {
    snare::XtablesLock& lock = locks->emplace_back(what);
    snare::Status st = lock.acquire(path, timeout);
    waited = lock.waited_ms();
    return st;
  };
  s.unlock = [locks] {
    while (!locks->empty()) locks->pop_back();  // the last taken goes first
  };
  s.nft_lock_path = snare::nft_apply_lock_path;
  s.routes = snare::make_netlink_route_ops;
  s.ipsets = snare::make_ipset_ops;
  s.done_line = [](std::string_view msg, const snare::LogFields& f) {
    snare::log_line(snare::LogLevel::info, msg, f);
  };
  return s;
}

// A rule command in the plan's mode, with the fault decorator around the mode's own backend: the
// x_tables backend (and libnftables for istio's iptables-nft chains, which clean removes and
// verify reports: it is loaded only when iptables-nft's tables exist), or nftables with the legacy
// tables read beside.
int rule_command(snare::RuleVerb verb, const snare::Config& c, const snare::Plan& p) {
  const bool nftables = p.dialect == snare::Dialect::nftables;
  auto t = nftables ? snare::make_iptc_backend() : tables();
  auto n = nftables ? nft() : snare::make_libnftables_backend();
  return snare::run_rule_command(verb, c, p, seams(), {t.get(), n.get()});
}

// On a failed validation: the live rules with their counters, as iptables-save -c shows them
// (nftables mode: as `nft list table` shows istio's tables).
void print_live_rules(bool ipv6) {
  auto backend = snare::make_iptc_backend();
  for (snare::Family f : {snare::Family::v4, snare::Family::v6}) {
    if (f == snare::Family::v6 && !ipv6) break;
    std::fprintf(stderr, "--- live rules (%s, with [packets:bytes]) ---\n", snare::family_name(f));
    for (snare::Table t : snare::kTables) {
      snare::TableModel m;
      if (snare::Status s = backend->read(f, t, m); !s.ok())
        std::fprintf(stderr, "(cannot read: %s)\n", s.error.c_str());
      else if (m.present)
        std::fputs(snare::render_save_table(m, true).c_str(), stderr);
    }
  }
}

void print_live_nft_rules() {
  auto backend = snare::make_libnftables_backend();
  std::vector<std::string> names;
  std::map<std::string, uint32_t> flags;
  std::fprintf(stderr, "--- live rules (nftables, with counters) ---\n");
  if (snare::Status s = backend->inet_tables(names, flags); !s.ok())
    return (void)std::fprintf(stderr, "(cannot read: %s)\n", s.error.c_str());
  for (const std::string& t : snare::istio_nft_tables()) {
    std::string text;
    if (std::find(names.begin(), names.end(), t) == names.end()) continue;
    if (snare::Status s = backend->list_table(t, false, text); !s.ok())
      std::fprintf(stderr, "(cannot read %s: %s)\n", t.c_str(), s.error.c_str());
    else
      std::fputs(text.c_str(), stderr);
  }
}

int validate(const snare::Config& cfg) {
  snare::ValidationOptions o;
  o.probe_port = cfg.probe_port;
  o.timeout = cfg.probe_timeout;
  o.proxy_port = snare::parse_port(cfg.proxy_port).value;
  o.inbound_port = snare::parse_port(cfg.inbound_capture_port).value;
  // The proxy's first identity, as config resolved it (an apply has every id resolved).
  if (!cfg.proxy_uids.empty() && cfg.proxy_uids[0].number) o.uid = *cfg.proxy_uids[0].number;
  if (!cfg.proxy_gids.empty() && cfg.proxy_gids[0].number) o.gid = *cfg.proxy_gids[0].number;
  // As istio: the probe's family is that of the pod's first usable address (IPv4 for a
  // dual-stack pod whose first address is IPv4), and IPv6 only when IPv6 rules were written.
  bool found = false;
  o.ipv6 = cfg.ipv6_enabled &&
           snare::ipv6_from_addresses(snare::real_host_facts().interface_addresses(), false, found);
  if (geteuid() == 0 && cfg.native_nftables)
    o.print_rules = print_live_nft_rules;
  else if (geteuid() == 0)
    o.print_rules = [ipv6 = cfg.ipv6_enabled] { print_live_rules(ipv6); };
  return snare::run_validation(o);
}

// `snare ambient-host probe`: the node's probe sets, in the mode's backend.
int probe(const snare::ProbeRequest& req) {
  const char* verb = req.add ? "probe add" : "probe del";
  if (snare::Status s = snare::check_net_admin(); !s.ok()) {
    snare::log_error("{}: {}", verb, s.error);
    return 1;
  }
  std::string said;
  snare::Status s;
  if (req.native_nftables) {
    auto nft = snare::make_libnftables_backend();
    s = nft->open();
    if (s.ok()) s = snare::probe_nft(req, *nft, said);
  } else {
    s = snare::probe_ipsets(req, *snare::make_ipset_ops(), said);
  }
  if (!s.ok()) {
    snare::log_error("{}: {}", verb, s.error);
    return 1;
  }
  snare::log_info("{}: {}", verb, said);
  return 0;
}

}  // namespace

snare::Commands snare::make_commands() {
  snare::Commands cmds;
  cmds.apply = [](const snare::Config& c, const snare::Plan& p) {
    return rule_command(snare::RuleVerb::apply, c, p);
  };
  cmds.cleanup = [](const snare::Config& c, const snare::Plan& p) {
    return rule_command(snare::RuleVerb::clean, c, p);
  };
  cmds.verify = [](const snare::Config& c, const snare::Plan& p) {
    return rule_command(snare::RuleVerb::verify, c, p);
  };
  cmds.validate = validate;
  cmds.probe = probe;
  cmds.proxy = snare::proxy_main;
  cmds.policy_routes = [](snare::Family family, std::vector<snare::RouteOps::TproxyRoute>& out) {
    auto routes = snare::make_netlink_route_ops();
    return snare::istio_policy_routes(family, *routes, out);
  };
  cmds.read_tables = [](snare::Family family, std::vector<snare::TableModel>& out) {
    auto backend = snare::make_iptc_backend();
    for (snare::Table t : {snare::Table::raw, snare::Table::mangle, snare::Table::nat}) {
      snare::TableModel m;
      if (snare::Status s = backend->read(family, t, m); !s.ok()) return s;
      if (m.present) out.push_back(std::move(m));
    }
    return snare::Status::Ok();
  };
  cmds.live_trace = [](const snare::LiveOptions& o, int& signal) {
    auto backend = snare::make_libnftables_backend();
    auto ops = snare::make_nft_trace_ops();
    return snare::run_live(*backend, *ops, o, signal);
  };
  cmds.nft_ruleset = [](std::string& out) {
    // Why the netlink check first: a namespace without nf_tables tables needs no libnftables.
    out.clear();
    std::vector<snare::NftTableInfo> nft;
    if (snare::Status s = snare::list_nft_tables(nft); !s.ok() || nft.empty()) return s;
    return snare::make_libnftables_backend()->list_ruleset(out);
  };
  cmds.version_details = [] {
    return fmt::format(
        "libiptc {} (libip4tc/libip6tc)\nlibnl {} (built with), {}.{}.{} (running)\n"
        "libnftables {} (built with; libnftables.so.1 is loaded in --native-nftables mode)\n",
        SNARE_IPTC_VERSION, LIBNL_VERSION, nl_ver_maj, nl_ver_min, nl_ver_mic,
        SNARE_NFTABLES_VERSION);
  };
  return cmds;
}
