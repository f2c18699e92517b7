// Config -> Plan: istio's steps in istio's order (see builder.h); each step lives in the file of
// its concern (emitter.h lists them).
#include "builder/builder.h"

#include "builder/emitter.h"

namespace snare {

namespace build {

Emitter::Emitter(Dialect dialect, bool ipv6) {
  plan_.dialect = dialect;
  plan_.ipv6 = ipv6;
}

}  // namespace build

bool dns_capture_effective(const Config& cfg) {
  if (!cfg.redirect_dns) return false;
  if (cfg.capture_all_dns) return true;
  return !cfg.dns_servers_v4.empty() || !cfg.dns_servers_v6.empty();
}

Plan build_plan(const Config& cfg) {
  build::Emitter e(cfg.native_nftables ? Dialect::nftables : Dialect::iptables, cfg.ipv6_enabled);
  // istio-cni's ambient programs take none of the sidecar's steps.
  if (cfg.command != Command::sidecar) {
    const bool host = cfg.command == Command::ambient_host;
    e.set_rule_set(host ? RuleSet::ambient_host : RuleSet::ambient);
    if (host)
      build::ambient_host(cfg, e);
    else
      build::ambient_inpod(cfg, e);
    return e.take();
  }
  // istio's fixed rules (under 100) plus those per listed value: no reallocation on the way,
  // and little to spare when a list runs to thousands.
  const size_t nics = cfg.reroute_interfaces.size();
  e.reserve(96 + cfg.exclude_cidrs_v4.size() + cfg.exclude_cidrs_v6.size() +
            (1 + nics) * (cfg.outbound_cidrs_v4.size() + cfg.outbound_cidrs_v6.size() + 1) +
            2 * nics + 4 * cfg.exclude_interfaces.size() +
            2 * (cfg.inbound_ports.size() + cfg.inbound_exclude.size()) +
            cfg.outbound_ports.size() + 2 * cfg.outbound_ports_exclude.size());
  build::exclude_interfaces(cfg, e);
  build::kube_virt_returns(cfg, e);
  build::drop_invalid(cfg, e);
  build::fixed_chains(cfg, e);
  build::inbound_capture(cfg, e);
  build::proxy_exemptions(cfg, dns_capture_effective(cfg), e);
  build::owner_groups(cfg, e);
  if (dns_capture_effective(cfg)) build::dns_capture(cfg, e);
  build::outbound_capture(cfg, e);
  build::tproxy_marks(cfg, e);
  return e.take();
}

}  // namespace snare
