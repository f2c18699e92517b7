// Ambient mode's rules, as istio-cni's node agent writes them (istio 1.30): the in-pod
// redirection to ztunnel (`snare ambient`) and the node's health-probe SNAT (`snare
// ambient-host`). One plan per program, in the agent's call order, for both of its backends:
// the nftables dialect names the chains istio-prerouting/istio-output, writes its own token
// order, and its jumps do not count.
#include "builder/emitter.h"

namespace snare::build {
namespace {

// The agent's constants: ztunnel marks its own packets 0x539 (1337); connections it delivers
// carry connmark 0x111, which the routing rule sends to the local table.
constexpr const char* kZtunnelMark = "0x539/0xfff";
constexpr const char* kTproxyMark = "0x111/0xfff";
constexpr const char* kZtunnelOutbound = "15001";
constexpr const char* kZtunnelInboundPlain = "15006";
constexpr const char* kZtunnelHbone = "15008";
constexpr const char* kLoopback4 = "127.0.0.1/32";
constexpr const char* kProbeSet4 = kProbeSetV4;
constexpr const char* kProbeSet6 = kProbeSetV6;

Target enter(const char* chain) { return JumpTarget{chain, /*nft_counter=*/false}; }
Match ztunnel(bool inv, NftMaskSpelling nft = NftMaskSpelling::mark_and) {
  return MarkMatch{inv, kZtunnelMark, nft};
}
Match l4(const char* p) { return L4Match{p}; }

struct Chains {
  const char* pre;
  const char* out;
};

// The jumps from the builtin chains (raw only with DNS), in the agent's order.
void jumps(Emitter& e, const Chains& c, bool dns) {
  e.both(Table::mangle, "PREROUTING", {}, enter(c.pre));
  e.both(Table::mangle, "OUTPUT", {}, enter(c.out));
  e.both(Table::nat, "OUTPUT", {}, enter(c.out));
  if (dns) {
    e.both(Table::raw, "PREROUTING", {}, enter(c.pre));
    e.both(Table::raw, "OUTPUT", {}, enter(c.out));
  }
  e.both(Table::nat, "PREROUTING", {}, enter(c.pre));
}

// Inbound: virtual interfaces' TCP to ztunnel's outbound port, the connmark of what ztunnel
// delivers, the probes from the SNAT address, and everything else to ztunnel's inbound port.
void inbound(const Config& cfg, Emitter& e, const Chains& c) {
  for (const std::string& nic : cfg.ambient.virtual_interfaces) {
    e.both(Table::nat, c.pre, {in_if(nic), proto("tcp")}, redirect(kZtunnelOutbound));
    e.both(Table::nat, c.pre, {in_if(nic), proto("tcp")}, jump("RETURN"));
  }
  e.both(Table::mangle, c.pre, {ztunnel(false, NftMaskSpelling::meta_mark_amp)},
         ConnmarkTarget{false, kTproxyMark});
  const bool capture = !cfg.ambient.bypass_inbound_capture;
  const AmbientOptions& a = cfg.ambient;
  if (capture)
    e.versioned(a.probe_snat_v4, a.probe_snat_v6, [&](const std::string& p) {
      return Spec{Table::nat, c.pre,
                  e.pick({src(p), proto("tcp"), l4("tcp")}, {proto("tcp"), src(p)}),
                  jump("ACCEPT")};
    });
  e.versioned(a.probe_snat_v4, a.probe_snat_v6, [&](const std::string& p) {
    return Spec{Table::nat, c.out,
                e.pick({dst(p), proto("tcp"), l4("tcp")}, {proto("tcp"), dst(p)}), jump("ACCEPT")};
  });
  if (capture)
    e.versioned(kLoopback4, kLoopback6, [&](const std::string& lo) {
      // istio's IPv4 nftables rule has two spaces before `!=`, its IPv6 twin one.
      const auto spelling =
          lo == kLoopback4 ? NftMaskSpelling::mark_and_wide : NftMaskSpelling::mark_and;
      return Spec{
          Table::nat, c.pre,
          e.pick({dst(lo, true), proto("tcp"), dport("tcp", kZtunnelHbone, true), ztunnel(true)},
                 {dst(lo, true), dport("tcp", kZtunnelHbone, true), ztunnel(true, spelling)}),
          redirect(kZtunnelInboundPlain)};
    });
  e.both(Table::mangle, c.out, {ConnmarkMatch{kTproxyMark}},
         ConnmarkTarget{true, {}, /*masks_spelled=*/true});
}

// DNS to ztunnel's DNS proxy, and conntrack zone 1 for the proxy's own DNS flows.
void dns(Emitter& e, const Chains& c) {
  e.both(Table::nat, c.out,
         e.pick({out_if_inv("lo"), proto("udp"), ztunnel(true), l4("udp"), dport("udp", "53")},
                {out_if_inv("lo"), ztunnel(true), dport("udp", "53")}),
         redirect(kDnsPort, /*singular=*/true));
  e.versioned(kLoopback4, kLoopback6, [&](const std::string& lo) {
    return Spec{Table::nat, c.out,
                e.pick({dst(lo, true), proto("tcp"), dport("tcp", "53"), ztunnel(true)},
                       {dst(lo, true), dport("tcp", "53"), ztunnel(true)}),
                redirect(kDnsPort)};
  });
  const auto meta = NftMaskSpelling::meta_mark_and;
  e.both(Table::raw, c.out,
         e.pick({proto("udp"), ztunnel(false), l4("udp"), dport("udp", "53")},
                {dport("udp", "53"), ztunnel(false, meta)}),
         CtZoneTarget{1});
  e.both(Table::raw, c.pre,
         e.pick({proto("udp"), ztunnel(true), l4("udp"), sport("udp", "53")},
                {sport("udp", "53"), ztunnel(true, meta)}),
         CtZoneTarget{1});
}

// Outbound: what ztunnel delivers (connmark restored) stays; local traffic stays; the rest of
// the pod's TCP goes to ztunnel's outbound port.
void outbound(Emitter& e, const Chains& c) {
  e.both(Table::nat, c.out, {proto("tcp"), MarkMatch{false, kTproxyMark}}, jump("ACCEPT"));
  e.versioned(kLoopback4, kLoopback6, [&](const std::string& lo) {
    return Spec{Table::nat, c.out,
                e.pick({dst(lo, true), out_if("lo")}, {out_if("lo"), dst(lo, true)}),
                jump("ACCEPT")};
  });
  e.versioned(kLoopback4, kLoopback6, [&](const std::string& lo) {
    return Spec{Table::nat, c.out,
                e.pick({dst(lo, true), proto("tcp"), ztunnel(true)},
                       {proto("tcp"), dst(lo, true), ztunnel(true)}),
                redirect(kZtunnelOutbound)};
  });
}

}  // namespace

void ambient_inpod(const Config& cfg, Emitter& e) {
  const Chains c{e.nftables() ? "ISTIO_PREROUTING" : "ISTIO_PRERT", "ISTIO_OUTPUT"};
  const bool dns_on = cfg.ambient.dns_effective();
  jumps(e, c, dns_on);
  inbound(cfg, e, c);
  if (dns_on) dns(e, c);
  outbound(e, c);
}

// The node's rule: kubelet's probes (its sockets: --socket-exists in iptables, its UID in
// nftables) to the pods in the probe set leave from the SNAT address, which the pods' rules let
// in uncaptured.
void ambient_host(const Config& cfg, Emitter& e) {
  const AmbientOptions& a = cfg.ambient;
  // The probe sets, as istio-cni's node agent creates them (the comment is its nftables set's).
  e.set(kProbeSet4, Family::v4, kProbeSetComment);
  e.set(kProbeSet6, Family::v6, kProbeSetComment);
  if (e.nftables()) {
    // fill_ambient_config found kubelet's UID when no --kubelet-uid was given (or refused).
    const uint32_t kubelet = a.kubelet_uid.value_or(0);
    const Match uid = OwnerMatch{false, false, std::to_string(kubelet), kubelet};
    e.v4(Table::nat, "POSTROUTING", {proto("tcp"), uid, SetMatch{kProbeSet4, false}},
         SnatTarget{a.probe_snat_v4});
    e.v6(Table::nat, "POSTROUTING", {proto("tcp"), uid, SetMatch{kProbeSet6, false}},
         SnatTarget{a.probe_snat_v6});
    return;
  }
  e.both(Table::nat, "POSTROUTING", {}, jump("ISTIO_POSTRT"), 1);
  e.v4(Table::nat, "ISTIO_POSTRT", {SocketOwnerMatch{}, proto("tcp"), SetMatch{kProbeSet4, false}},
       SnatTarget{a.probe_snat_v4});
  e.v6(Table::nat, "ISTIO_POSTRT", {SocketOwnerMatch{}, proto("tcp"), SetMatch{kProbeSet6, false}},
       SnatTarget{a.probe_snat_v6});
}

}  // namespace snare::build
