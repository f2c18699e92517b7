// Config → Plan, following istio's rule-emission order (istio-rules.md §3). Each block below is
// one of istio's steps; the comment above it says what the rules are for.
#include "builder.h"

#include <utility>

namespace snare {
namespace {

constexpr const char* kOutboundMark = "1338";  // constants.OutboundMark
constexpr const char* kDnsPort = "15053";      // the agent's DNS proxy
constexpr const char* kPassthrough4 = "127.0.0.6/32";
constexpr const char* kPassthrough6 = "::6/128";
constexpr const char* kLoopback6 = "::1/128";

// Small constructors so each step reads like istio's rule text.
Match src(std::string cidr, bool inv = false) { return AddrMatch{true, inv, std::move(cidr)}; }
Match dst(std::string cidr, bool inv = false) { return AddrMatch{false, inv, std::move(cidr)}; }
Match in_if(std::string n) { return IfaceMatch{false, false, std::move(n)}; }
Match out_if(std::string n) { return IfaceMatch{true, false, std::move(n)}; }
Match proto(const char* p) { return ProtoMatch{p}; }
Match dport(std::string p, bool inv = false) { return PortMatch{false, inv, std::move(p)}; }
Match sport(std::string p) { return PortMatch{true, false, std::move(p)}; }
Match uid(std::string id, bool inv = false) { return OwnerMatch{false, inv, std::move(id)}; }
Match gid(std::string id, bool inv = false) { return OwnerMatch{true, inv, std::move(id)}; }
Match mark(std::string m, bool inv = false) { return MarkMatch{inv, std::move(m)}; }
Target jump(std::string chain) { return JumpTarget{std::move(chain)}; }

// The two rule lists istio keeps. `both` adds to v4 and v6, `v4`/`v6` to one; a v6 add is a no-op
// when IPv6 is off (istio's builder does the same).
class Emitter {
 public:
  explicit Emitter(bool ipv6) : ipv6_(ipv6) {
    plan_.ipv6 = ipv6;
    plan_.v4.family = Family::v4;
    plan_.v6.family = Family::v6;
  }
  void both(Table t, const char* chain, std::vector<Match> m, Target tg, int insert_at = 0) {
    v4(t, chain, m, tg, insert_at);
    v6(t, chain, std::move(m), std::move(tg), insert_at);
  }
  void v4(Table t, const char* chain, std::vector<Match> m, Target tg, int insert_at = 0) {
    plan_.v4.rules.push_back(Rule{t, chain, insert_at, std::move(m), std::move(tg)});
  }
  void v6(Table t, const char* chain, std::vector<Match> m, Target tg, int insert_at = 0) {
    if (ipv6_) plan_.v6.rules.push_back(Rule{t, chain, insert_at, std::move(m), std::move(tg)});
  }
  // istio's AppendVersionedRule: the same rule with a family-specific address.
  template <typename F>
  void versioned(const std::string& a4, const std::string& a6, F make) {
    auto [t4, c4, m4, tg4] = make(a4);
    v4(t4, c4, std::move(m4), std::move(tg4));
    auto [t6, c6, m6, tg6] = make(a6);
    v6(t6, c6, std::move(m6), std::move(tg6));
  }
  Plan take() { return std::move(plan_); }

 private:
  bool ipv6_;
  Plan plan_;
};

struct Spec {
  Table table;
  const char* chain;
  std::vector<Match> matches;
  Target target;
};

}  // namespace

bool dns_capture_effective(const Config& cfg) {
  if (!cfg.redirect_dns) return false;
  if (cfg.capture_all_dns) return true;
  return !cfg.dns_servers_v4.empty() || !cfg.dns_servers_v6.empty();
}

Plan build_plan(const Config& cfg) {
  Emitter e(cfg.ipv6_enabled);
  const bool tproxy = cfg.mode == InterceptMode::tproxy;
  const bool dns = dns_capture_effective(cfg);
  const std::string& lo4 = cfg.ipv4_loopback_cidr;
  const std::string& tun = cfg.inbound_tunnel_port;

  // S1: excluded interfaces are never captured, in either direction; these come first so that no
  // later rule sees their packets.
  for (const auto& nic : cfg.exclude_interfaces) {
    e.both(Table::nat, "PREROUTING", {in_if(nic)}, jump("RETURN"));
    e.both(Table::nat, "OUTPUT", {out_if(nic)}, jump("RETURN"));
  }
  if (tproxy) {
    for (const auto& nic : cfg.exclude_interfaces) {
      e.both(Table::mangle, "PREROUTING", {in_if(nic)}, jump("RETURN"));
      e.both(Table::mangle, "OUTPUT", {out_if(nic)}, jump("RETURN"));
    }
  }

  // S2: traffic arriving on a rerouted virtual interface (KubeVirt) is not inbound traffic.
  for (const auto& nic : cfg.reroute_interfaces) {
    e.both(Table::nat, "PREROUTING", {in_if(nic)}, jump("RETURN"), 1);
  }

  // S3: packets conntrack calls INVALID would bypass NAT and reach the app uncaptured: drop them.
  if (cfg.drop_invalid) {
    e.both(Table::mangle, "PREROUTING", {ConntrackMatch{{"INVALID"}}}, jump("ISTIO_DROP"));
    e.both(Table::mangle, "ISTIO_DROP", {}, jump("DROP"));
  }

  // S4-S6: the fixed chains. The HBONE tunnel port is never captured inbound.
  e.both(Table::nat, "ISTIO_INBOUND", {proto("tcp"), dport(tun)}, jump("RETURN"));
  e.both(Table::nat, "ISTIO_REDIRECT", {proto("tcp")}, RedirectTarget{cfg.proxy_port, false});
  e.both(Table::nat, "ISTIO_IN_REDIRECT", {proto("tcp")},
         RedirectTarget{cfg.inbound_capture_port, false});

  // S7: inbound capture. In TPROXY mode it lives in mangle and marks packets for policy routing;
  // otherwise nat REDIRECTs them to the inbound port.
  const bool inbound = cfg.inbound_ports_all || !cfg.inbound_ports.empty();
  if (inbound) {
    Table t = Table::nat;
    if (tproxy) {
      t = Table::mangle;
      e.both(Table::mangle, "ISTIO_DIVERT", {}, MarkTarget{cfg.tproxy_mark});
      e.both(Table::mangle, "ISTIO_DIVERT", {}, jump("ACCEPT"));
      e.versioned(lo4, kLoopback6, [&](const std::string& lo) {
        return Spec{Table::mangle,
                    "ISTIO_TPROXY",
                    {dst(lo, true), proto("tcp")},
                    TproxyTarget{cfg.tproxy_mark, cfg.inbound_capture_port}};
      });
    }
    e.both(t, "PREROUTING", {proto("tcp")}, jump("ISTIO_INBOUND"));
    if (cfg.inbound_ports_all) {
      for (const auto& port : cfg.inbound_exclude) {
        e.both(t, "ISTIO_INBOUND", {proto("tcp"), dport(port)}, jump("RETURN"));
      }
      if (tproxy) {
        e.both(Table::mangle, "ISTIO_INBOUND",
               {proto("tcp"), ConntrackMatch{{"RELATED", "ESTABLISHED"}}}, jump("ISTIO_DIVERT"));
        e.both(Table::mangle, "ISTIO_INBOUND", {proto("tcp")}, jump("ISTIO_TPROXY"));
      } else {
        e.both(Table::nat, "ISTIO_INBOUND", {proto("tcp")}, jump("ISTIO_IN_REDIRECT"));
      }
    } else {
      // A port list captures just those ports; istio ignores -d here.
      for (const auto& port : cfg.inbound_ports) {
        if (tproxy) {
          e.both(Table::mangle, "ISTIO_INBOUND",
                 {proto("tcp"), dport(port), ConntrackMatch{{"RELATED", "ESTABLISHED"}}},
                 jump("ISTIO_DIVERT"));
          e.both(Table::mangle, "ISTIO_INBOUND", {proto("tcp"), dport(port)}, jump("ISTIO_TPROXY"));
        } else {
          e.both(Table::nat, "ISTIO_INBOUND", {proto("tcp"), dport(port)},
                 jump("ISTIO_IN_REDIRECT"));
        }
      }
    }
  }

  // S8: every locally generated packet goes through ISTIO_OUTPUT (all protocols since 1.25).
  e.both(Table::nat, "OUTPUT", {}, jump("ISTIO_OUTPUT"));

  // S9: excluded outbound ports, TCP and UDP, before anything else in ISTIO_OUTPUT.
  for (const auto& port : cfg.outbound_ports_exclude) {
    e.both(Table::nat, "ISTIO_OUTPUT", {proto("tcp"), dport(port)}, jump("RETURN"));
    e.both(Table::nat, "ISTIO_OUTPUT", {proto("udp"), dport(port)}, jump("RETURN"));
  }

  // S10: the sidecar's inbound passthrough connects to the app from 127.0.0.6 (::6) over lo;
  // capturing it again would loop.
  e.versioned(kPassthrough4, kPassthrough6, [&](const std::string& pt) {
    return Spec{Table::nat, "ISTIO_OUTPUT", {out_if("lo"), src(pt)}, jump("RETURN")};
  });

  // S11/S12: the proxy's own traffic. (a) proxy → own pod IP over lo goes through the inbound
  // listener; (b) other lo traffic is not captured (unless -i names a loopback CIDR); (c) all
  // other proxy traffic leaves uncaptured. istio uses the multiport form with DNS only for UIDs.
  auto owner_group = [&](bool is_gid, const std::string& id) {
    auto owner = [&](bool inv) { return is_gid ? gid(id, inv) : uid(id, inv); };
    e.versioned(lo4, kLoopback6, [&](const std::string& lo) {
      if (dns && !is_gid) {
        return Spec{Table::nat,
                    "ISTIO_OUTPUT",
                    {out_if("lo"), dst(lo, true), proto("tcp"), MultiportMatch{true, {"53", tun}},
                     owner(false)},
                    jump("ISTIO_IN_REDIRECT")};
      }
      return Spec{Table::nat,
                  "ISTIO_OUTPUT",
                  {out_if("lo"), dst(lo, true), proto("tcp"), dport(tun, true), owner(false)},
                  jump("ISTIO_IN_REDIRECT")};
    });
    if (!cfg.outbound_cidrs_have_loopback) {
      if (dns) {
        e.both(Table::nat, "ISTIO_OUTPUT",
               {out_if("lo"), proto("tcp"), dport("53", true), owner(true)}, jump("RETURN"));
      } else {
        e.both(Table::nat, "ISTIO_OUTPUT", {out_if("lo"), owner(true)}, jump("RETURN"));
      }
    }
    e.both(Table::nat, "ISTIO_OUTPUT", {owner(false)}, jump("RETURN"));
  };
  for (const auto& id : cfg.proxy_uids) owner_group(false, id);
  for (const auto& id : cfg.proxy_gids) owner_group(true, id);

  // S13: owner groups. With an include list only those groups' traffic is captured (one rule,
  // at most 64 groups); with "*" the exclude list's groups are let through.
  if (cfg.owner_groups_all) {
    for (const auto& g : cfg.owner_groups_exclude) {
      e.both(Table::nat, "ISTIO_OUTPUT", {gid(g)}, jump("RETURN"));
    }
  } else {
    std::vector<Match> m;
    for (const auto& g : cfg.owner_groups_include) m.push_back(gid(g, true));
    e.both(Table::nat, "ISTIO_OUTPUT", std::move(m), jump("RETURN"));
  }

  // S14: DNS to the agent on 15053, plus conntrack zones that keep the app↔agent and
  // agent↔upstream UDP flows (same 4-tuples) apart.
  if (dns) {
    const bool all = cfg.capture_all_dns;
    const auto& s4 = cfg.dns_servers_v4;
    const auto& s6 = cfg.dns_servers_v6;
    e.both(Table::raw, "OUTPUT", {}, jump("ISTIO_OUTPUT_DNS"));
    if (all || !s4.empty()) e.v4(Table::nat, "ISTIO_OUTPUT", {}, jump("ISTIO_OUTPUT_DNS"));
    if (all || !s6.empty()) e.v6(Table::nat, "ISTIO_OUTPUT", {}, jump("ISTIO_OUTPUT_DNS"));
    for (const char* p : {"tcp", "udp"}) {
      const bool singular = std::string(p) == "udp";
      if (all) {
        e.both(Table::nat, "ISTIO_OUTPUT_DNS", {proto(p), dport("53")},
               RedirectTarget{kDnsPort, singular});
        continue;
      }
      for (const auto& s : s4) {
        e.v4(Table::nat, "ISTIO_OUTPUT_DNS", {proto(p), dport("53"), dst(s + "/32")},
             RedirectTarget{kDnsPort, singular});
      }
      for (const auto& s : s6) {
        e.v6(Table::nat, "ISTIO_OUTPUT_DNS", {proto(p), dport("53"), dst(s + "/128")},
             RedirectTarget{kDnsPort, singular});
      }
    }
    auto zones = [&](bool is_gid, const std::string& id) {
      auto owner = is_gid ? gid(id) : uid(id);
      e.both(Table::raw, "ISTIO_OUTPUT_DNS", {proto("udp"), dport("53"), owner}, CtZoneTarget{1});
      e.both(Table::raw, "ISTIO_OUTPUT_DNS", {proto("udp"), sport(kDnsPort), owner},
             CtZoneTarget{2});
    };
    for (const auto& id : cfg.proxy_uids) zones(false, id);
    for (const auto& id : cfg.proxy_gids) zones(true, id);
    if (all) {
      e.both(Table::raw, "PREROUTING", {}, jump("ISTIO_INBOUND"));
      e.both(Table::raw, "ISTIO_OUTPUT_DNS", {proto("udp"), dport("53")}, CtZoneTarget{2});
      e.both(Table::raw, "ISTIO_INBOUND", {proto("udp"), sport("53")}, CtZoneTarget{1});
    } else {
      if (!s4.empty()) e.v4(Table::raw, "PREROUTING", {}, jump("ISTIO_INBOUND"));
      for (const auto& s : s4) {
        e.v4(Table::raw, "ISTIO_OUTPUT_DNS", {proto("udp"), dport("53"), dst(s + "/32")},
             CtZoneTarget{2});
        e.v4(Table::raw, "ISTIO_INBOUND", {proto("udp"), sport("53"), src(s + "/32")},
             CtZoneTarget{1});
      }
      if (!s6.empty()) e.v6(Table::raw, "PREROUTING", {}, jump("ISTIO_INBOUND"));
      for (const auto& s : s6) {
        e.v6(Table::raw, "ISTIO_OUTPUT_DNS", {proto("udp"), dport("53"), dst(s + "/128")},
             CtZoneTarget{2});
        e.v6(Table::raw, "ISTIO_INBOUND", {proto("udp"), sport("53"), src(s + "/128")},
             CtZoneTarget{1});
      }
    }
  }

  // S15: traffic to localhost is never captured.
  e.versioned(lo4, kLoopback6, [&](const std::string& lo) {
    return Spec{Table::nat, "ISTIO_OUTPUT", {dst(lo)}, jump("RETURN")};
  });

  // S16: excluded destination CIDRs.
  for (const auto& c : cfg.exclude_cidrs_v4)
    e.v4(Table::nat, "ISTIO_OUTPUT", {dst(c)}, jump("RETURN"));
  for (const auto& c : cfg.exclude_cidrs_v6)
    e.v6(Table::nat, "ISTIO_OUTPUT", {dst(c)}, jump("RETURN"));

  // S17: ports always captured, whatever the destination.
  for (const auto& port : cfg.outbound_ports) {
    e.both(Table::nat, "ISTIO_OUTPUT", {proto("tcp"), dport(port)}, jump("ISTIO_REDIRECT"));
  }

  // S18: captured destinations; -k interfaces' inbound traffic to them is treated as outbound.
  if (cfg.outbound_cidrs_all) {
    e.v4(Table::nat, "ISTIO_OUTPUT", {}, jump("ISTIO_REDIRECT"));
    for (const auto& nic : cfg.reroute_interfaces) {
      e.v4(Table::nat, "PREROUTING", {in_if(nic)}, jump("ISTIO_REDIRECT"), 1);
    }
    e.v6(Table::nat, "ISTIO_OUTPUT", {}, jump("ISTIO_REDIRECT"));
    for (const auto& nic : cfg.reroute_interfaces) {
      e.v6(Table::nat, "PREROUTING", {in_if(nic)}, jump("ISTIO_REDIRECT"), 1);
    }
  } else {
    for (const auto& c : cfg.outbound_cidrs_v4) {
      for (const auto& nic : cfg.reroute_interfaces) {
        e.v4(Table::nat, "PREROUTING", {in_if(nic), dst(c)}, jump("ISTIO_REDIRECT"), 1);
      }
      e.v4(Table::nat, "ISTIO_OUTPUT", {dst(c)}, jump("ISTIO_REDIRECT"));
    }
    for (const auto& c : cfg.outbound_cidrs_v6) {
      for (const auto& nic : cfg.reroute_interfaces) {
        e.v6(Table::nat, "PREROUTING", {in_if(nic), dst(c)}, jump("ISTIO_REDIRECT"), 1);
      }
      e.v6(Table::nat, "ISTIO_OUTPUT", {dst(c)}, jump("ISTIO_REDIRECT"));
    }
  }

  // S19: TPROXY bookkeeping. The connection keeps the divert mark so replies route back through
  // the TPROXY table; the proxy's lo traffic gets 1338 so ISTIO_INBOUND re-captures only that.
  if (tproxy) {
    const std::string& t = cfg.tproxy_mark;
    e.both(Table::mangle, "PREROUTING", {proto("tcp"), mark(t)}, ConnmarkTarget{false});
    e.both(Table::mangle, "OUTPUT", {proto("tcp"), out_if("lo"), mark(t)}, jump("RETURN"));
    auto out_mark = [&](bool is_gid, const std::string& id) {
      e.versioned(lo4, kLoopback6, [&](const std::string& lo) {
        return Spec{Table::mangle,
                    "OUTPUT",
                    {dst(lo, true), proto("tcp"), out_if("lo"), is_gid ? gid(id) : uid(id)},
                    MarkTarget{kOutboundMark}};
      });
    };
    for (const auto& id : cfg.proxy_uids) out_mark(false, id);
    for (const auto& id : cfg.proxy_gids) out_mark(true, id);
    e.both(Table::mangle, "OUTPUT", {proto("tcp"), ConnmarkMatch{t}}, ConnmarkTarget{true});
    e.both(Table::mangle, "ISTIO_INBOUND", {proto("tcp"), mark(t)}, jump("RETURN"), 1);
    e.v4(Table::mangle, "ISTIO_INBOUND", {proto("tcp"), src(kPassthrough4), in_if("lo")},
         jump("RETURN"), 2);
    e.v6(Table::mangle, "ISTIO_INBOUND", {proto("tcp"), src(kPassthrough6), in_if("lo")},
         jump("RETURN"), 2);
    e.both(Table::mangle, "ISTIO_INBOUND", {proto("tcp"), in_if("lo"), mark(kOutboundMark, true)},
           jump("RETURN"), 3);
  }
  return e.take();
}

}  // namespace snare
