// Inbound: the fixed chains and the capture of inbound TCP to the proxy's inbound port.
#include "builder/emitter.h"

namespace snare::build {
namespace {

// S7, REDIRECT: nat sends inbound TCP to ISTIO_IN_REDIRECT, all ports but the excluded ones, or
// only the listed ones.
void inbound_redirect(const Config& cfg, Emitter& e) {
  e.both(Table::nat, "PREROUTING", {proto("tcp")}, jump("ISTIO_INBOUND"));
  if (cfg.inbound_ports_all) {
    for (const auto& port : cfg.inbound_exclude)
      e.both(Table::nat, "ISTIO_INBOUND", {proto("tcp"), dport("tcp", port)}, jump("RETURN"));
    e.both(Table::nat, "ISTIO_INBOUND", {proto("tcp")}, jump("ISTIO_IN_REDIRECT"));
    return;
  }
  // A port list captures just those ports; istio ignores -d here.
  for (const auto& port : cfg.inbound_ports)
    e.both(Table::nat, "ISTIO_INBOUND", {proto("tcp"), dport("tcp", port)},
           jump("ISTIO_IN_REDIRECT"));
}

// S7, TPROXY: mangle marks inbound TCP for policy routing; packets of established connections
// go straight to the divert chain, new ones through TPROXY.
void inbound_tproxy(const Config& cfg, Emitter& e) {
  tproxy_divert(cfg, e);
  e.both(Table::mangle, "PREROUTING", {proto("tcp")}, jump("ISTIO_INBOUND"));
  if (cfg.inbound_ports_all) {
    for (const auto& port : cfg.inbound_exclude)
      e.both(Table::mangle, "ISTIO_INBOUND", {proto("tcp"), dport("tcp", port)}, jump("RETURN"));
    e.both(Table::mangle, "ISTIO_INBOUND", {proto("tcp"), ctstate({"RELATED", "ESTABLISHED"})},
           jump("ISTIO_DIVERT"));
    e.both(Table::mangle, "ISTIO_INBOUND", {proto("tcp")}, jump("ISTIO_TPROXY"));
    return;
  }
  for (const auto& port : cfg.inbound_ports) {
    e.both(Table::mangle, "ISTIO_INBOUND",
           e.pick({proto("tcp"), dport("tcp", port), ctstate({"RELATED", "ESTABLISHED"})},
                  {proto("tcp"), ctstate({"RELATED", "ESTABLISHED"}), dport("tcp", port)}),
           jump("ISTIO_DIVERT"));
    e.both(Table::mangle, "ISTIO_INBOUND", {proto("tcp"), dport("tcp", port)},
           jump("ISTIO_TPROXY"));
  }
}

}  // namespace

// S3: packets conntrack calls INVALID would bypass NAT and reach the app uncaptured: drop them.
// (istio's nftables code drops only TCP ones.)
void drop_invalid(const Config& cfg, Emitter& e) {
  if (!cfg.drop_invalid) return;
  e.both(Table::mangle, "PREROUTING",
         e.pick({ctstate({"INVALID"})}, {proto("tcp"), ctstate({"INVALID"})}), jump("ISTIO_DROP"));
  e.both(Table::mangle, "ISTIO_DROP", {}, jump("DROP"));
}

// S4-S6: the fixed chains. The HBONE tunnel port is never captured inbound; ISTIO_REDIRECT and
// ISTIO_IN_REDIRECT send TCP to the outbound and inbound capture ports.
void fixed_chains(const Config& cfg, Emitter& e) {
  e.both(Table::nat, "ISTIO_INBOUND", {proto("tcp"), dport("tcp", cfg.inbound_tunnel_port)},
         jump("RETURN"));
  e.both(Table::nat, "ISTIO_REDIRECT", {proto("tcp")}, redirect(cfg.proxy_port));
  e.both(Table::nat, "ISTIO_IN_REDIRECT", {proto("tcp")}, redirect(cfg.inbound_capture_port));
}

void inbound_capture(const Config& cfg, Emitter& e) {
  if (!cfg.inbound_ports_all && cfg.inbound_ports.empty()) return;
  if (cfg.mode == InterceptMode::tproxy)
    inbound_tproxy(cfg, e);
  else
    inbound_redirect(cfg, e);
}

}  // namespace snare::build
