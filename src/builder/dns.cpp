// DNS capture: DNS (TCP and UDP port 53) to the agent on 15053, and conntrack zones that keep
// the app<->agent and agent<->upstream UDP flows (same 4-tuples) apart.
#include "builder/emitter.h"

namespace snare::build {
namespace {

// The family of a jump istio emits per family in iptables mode (only where that family has
// nameservers, or all are captured) but once, for both, in nftables mode.
Scope jump_scope(const Emitter& e, bool v4, bool v6) {
  if (e.nftables() || (v4 && v6)) return Scope::both;
  return v4 ? Scope::v4 : Scope::v6;
}

// nat: port 53 to 15053, for every server or only the nameservers. istio spells the UDP
// REDIRECT `--to-port`.
void dns_redirects(const Config& cfg, Emitter& e) {
  for (const char* p : {"tcp", "udp"}) {
    const bool udp = std::string_view(p) == "udp";
    if (cfg.capture_all_dns) {
      e.both(Table::nat, "ISTIO_OUTPUT_DNS",
             e.pick({proto(p), dport(p, "53")}, udp ? std::vector<Match>{dport(p, "53")}
                                                    : std::vector<Match>{proto(p), dport(p, "53")}),
             redirect(kDnsPort, udp));
      continue;
    }
    for (const auto& s : cfg.dns_servers_v4)
      e.v4(Table::nat, "ISTIO_OUTPUT_DNS",
           e.pick({proto(p), dport(p, "53"), dst(s + "/32")}, {dst(s + "/32"), dport(p, "53")}),
           redirect(kDnsPort, udp));
    for (const auto& s : cfg.dns_servers_v6)
      e.v6(Table::nat, "ISTIO_OUTPUT_DNS",
           e.pick({proto(p), dport(p, "53"), dst(s + "/128")}, {dst(s + "/128"), dport(p, "53")}),
           redirect(kDnsPort, udp));
  }
}

// raw: the proxy's own DNS (to upstream resolvers: zone 1; its answers from 15053: zone 2).
void proxy_zones(const Config& cfg, Emitter& e) {
  auto zones = [&](bool is_gid, const OwnerId& id) {
    OwnerMatch o{is_gid, false, id.spelling, id.number, /*nft_meta=*/true};
    e.both(Table::raw, "ISTIO_OUTPUT_DNS",
           e.pick({proto("udp"), dport("udp", "53"), o}, {dport("udp", "53"), o}), CtZoneTarget{1});
    e.both(Table::raw, "ISTIO_OUTPUT_DNS",
           e.pick({proto("udp"), sport("udp", kDnsPort), o}, {sport("udp", kDnsPort), o}),
           CtZoneTarget{2});
  };
  for (const auto& id : cfg.proxy_uids) zones(false, id);
  for (const auto& id : cfg.proxy_gids) zones(true, id);
}

// raw: the apps' DNS (queries: zone 2; answers from the resolvers: zone 1).
void app_zones(const Config& cfg, Emitter& e) {
  if (cfg.capture_all_dns) {
    e.both(Table::raw, "PREROUTING", {}, jump("ISTIO_INBOUND"));
    e.both(Table::raw, "ISTIO_OUTPUT_DNS",
           e.pick({proto("udp"), dport("udp", "53")}, {dport("udp", "53")}), CtZoneTarget{2});
    e.both(Table::raw, "ISTIO_INBOUND",
           e.pick({proto("udp"), sport("udp", "53")}, {sport("udp", "53")}), CtZoneTarget{1});
    return;
  }
  const auto& s4 = cfg.dns_servers_v4;
  const auto& s6 = cfg.dns_servers_v6;
  if (!s4.empty() || !s6.empty())
    e.in(jump_scope(e, !s4.empty(), !s6.empty()), Table::raw, "PREROUTING", {},
         jump("ISTIO_INBOUND"));
  auto server = [&](bool v6, const std::string& addr) {
    const Scope scope = v6 ? Scope::v6 : Scope::v4;
    e.in(scope, Table::raw, "ISTIO_OUTPUT_DNS",
         e.pick({proto("udp"), dport("udp", "53"), dst(addr)}, {dport("udp", "53"), dst(addr)}),
         CtZoneTarget{2});
    e.in(scope, Table::raw, "ISTIO_INBOUND",
         e.pick({proto("udp"), sport("udp", "53"), src(addr)}, {sport("udp", "53"), src(addr)}),
         CtZoneTarget{1});
  };
  for (const auto& s : s4) server(false, s + "/32");
  for (const auto& s : s6) server(true, s + "/128");
}

}  // namespace

// S14.
void dns_capture(const Config& cfg, Emitter& e) {
  const bool all = cfg.capture_all_dns;
  e.both(Table::raw, "OUTPUT", {}, jump("ISTIO_OUTPUT_DNS"));
  const bool v4 = all || !cfg.dns_servers_v4.empty(), v6 = all || !cfg.dns_servers_v6.empty();
  if (v4 || v6)
    e.in(jump_scope(e, v4, v6), Table::nat, "ISTIO_OUTPUT", {}, jump("ISTIO_OUTPUT_DNS"));
  dns_redirects(cfg, e);
  proxy_zones(cfg, e);
  app_zones(cfg, e);
}

}  // namespace snare::build
