// Outbound: every locally generated packet goes through ISTIO_OUTPUT, which lets the proxy's own
// traffic, localhost and the exclusions pass and sends the rest to the outbound port.
#include "builder/emitter.h"

namespace snare::build {
namespace {

// S11/S12 for one proxy UID or GID. (a) the proxy's connections to its own pod address over lo go
// through the inbound listener; (b) other lo traffic is not captured (unless -i names a
// loopback CIDR); (c) all other proxy traffic leaves uncaptured. With DNS capture, port 53 is
// left out of (a) and (b); istio writes (a) with the multiport form only for UIDs.
void proxy_identity(const Config& cfg, bool dns, bool is_gid, const OwnerId& id, Emitter& e) {
  const std::string& tun = cfg.inbound_tunnel_port;
  e.versioned(cfg.ipv4_loopback_cidr, kLoopback6, [&](const std::string& lo) {
    Match ports = dport("tcp", tun, true);
    if (dns && !is_gid) ports = MultiportMatch{"tcp", true, {"53", tun}};
    return Spec{Table::nat, "ISTIO_OUTPUT",
                e.pick({out_if("lo"), dst(lo, true), proto("tcp"), ports, owner(is_gid, id)},
                       {out_if("lo"), proto("tcp"), dst(lo, true), ports, owner(is_gid, id)}),
                jump("ISTIO_IN_REDIRECT")};
  });
  if (!cfg.outbound_cidrs_have_loopback) {
    if (dns) {
      e.both(Table::nat, "ISTIO_OUTPUT",
             {out_if("lo"), proto("tcp"), dport("tcp", "53", true), owner(is_gid, id, true)},
             jump("RETURN"));
    } else {
      e.both(Table::nat, "ISTIO_OUTPUT", {out_if("lo"), owner(is_gid, id, true)}, jump("RETURN"));
    }
  }
  e.both(Table::nat, "ISTIO_OUTPUT", {owner(is_gid, id)}, jump("RETURN"));
}

}  // namespace

// S8-S12: into ISTIO_OUTPUT; excluded ports first (TCP and UDP); the inbound passthrough source
// (the proxy connects to the app from 127.0.0.6 / ::6 over lo, and capturing it again would
// loop); then the proxy's own identities.
void proxy_exemptions(const Config& cfg, bool dns, Emitter& e) {
  e.both(Table::nat, "OUTPUT", {}, jump("ISTIO_OUTPUT"));
  for (const auto& port : cfg.outbound_ports_exclude) {
    e.both(Table::nat, "ISTIO_OUTPUT",
           e.pick({proto("tcp"), dport("tcp", port)}, {dport("tcp", port)}), jump("RETURN"));
    e.both(Table::nat, "ISTIO_OUTPUT",
           e.pick({proto("udp"), dport("udp", port)}, {dport("udp", port)}), jump("RETURN"));
  }
  e.versioned(kPassthrough4, kPassthrough6, [&](const std::string& pt) {
    return Spec{Table::nat, "ISTIO_OUTPUT", {out_if("lo"), src(pt)}, jump("RETURN")};
  });
  for (const auto& id : cfg.proxy_uids) proxy_identity(cfg, dns, false, id, e);
  for (const auto& id : cfg.proxy_gids) proxy_identity(cfg, dns, true, id, e);
}

// S13: owner groups. With an include list only those groups' traffic is captured (one rule, at
// most 64 groups); with "*" the exclude list's groups are let through.
void owner_groups(const Config& cfg, Emitter& e) {
  if (cfg.owner_groups_all) {
    for (const auto& g : cfg.owner_groups_exclude)
      e.both(Table::nat, "ISTIO_OUTPUT", {owner(true, g)}, jump("RETURN"));
    return;
  }
  std::vector<Match> m;
  for (const auto& g : cfg.owner_groups_include) m.push_back(owner(true, g, true));
  e.both(Table::nat, "ISTIO_OUTPUT", std::move(m), jump("RETURN"));
}

// S15-S18: localhost is never captured, excluded CIDRs next, then the ports always captured,
// then the captured destinations; -k interfaces' inbound traffic to them counts as outbound
// (inserted at the head of PREROUTING).
void outbound_capture(const Config& cfg, Emitter& e) {
  e.versioned(cfg.ipv4_loopback_cidr, kLoopback6, [&](const std::string& lo) {
    return Spec{Table::nat, "ISTIO_OUTPUT", {dst(lo)}, jump("RETURN")};
  });
  for (const auto& c : cfg.exclude_cidrs_v4)
    e.v4(Table::nat, "ISTIO_OUTPUT", just(dst(c)), jump("RETURN"));
  for (const auto& c : cfg.exclude_cidrs_v6)
    e.v6(Table::nat, "ISTIO_OUTPUT", just(dst(c)), jump("RETURN"));
  for (const auto& port : cfg.outbound_ports)
    e.both(Table::nat, "ISTIO_OUTPUT",
           e.pick({proto("tcp"), dport("tcp", port)}, {dport("tcp", port)}),
           jump("ISTIO_REDIRECT"));
  if (cfg.outbound_cidrs_all) {
    e.both(Table::nat, "ISTIO_OUTPUT", {}, jump("ISTIO_REDIRECT"));
    for (const auto& nic : cfg.reroute_interfaces)
      e.both(Table::nat, "PREROUTING", {in_if(nic)}, jump("ISTIO_REDIRECT"), 1);
    return;
  }
  for (const auto& c : cfg.outbound_cidrs_v4) {
    for (const auto& nic : cfg.reroute_interfaces)
      e.v4(Table::nat, "PREROUTING", {in_if(nic), dst(c)}, jump("ISTIO_REDIRECT"), 1);
    e.v4(Table::nat, "ISTIO_OUTPUT", just(dst(c)), jump("ISTIO_REDIRECT"));
  }
  for (const auto& c : cfg.outbound_cidrs_v6) {
    for (const auto& nic : cfg.reroute_interfaces)
      e.v6(Table::nat, "PREROUTING", {in_if(nic), dst(c)}, jump("ISTIO_REDIRECT"), 1);
    e.v6(Table::nat, "ISTIO_OUTPUT", just(dst(c)), jump("ISTIO_REDIRECT"));
  }
}

}  // namespace snare::build
