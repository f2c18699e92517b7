// TPROXY mode: the divert and tproxy chains, and the marks that route replies and keep the
// proxy's own loopback traffic apart.
#include "builder/emitter.h"

namespace snare::build {

// S7 (TPROXY part): ISTIO_DIVERT marks a packet for the local route and accepts it; ISTIO_TPROXY
// hands new connections to the inbound port, except those to localhost.
void tproxy_divert(const Config& cfg, Emitter& e) {
  e.both(Table::mangle, "ISTIO_DIVERT", {}, MarkTarget{cfg.tproxy_mark});
  e.both(Table::mangle, "ISTIO_DIVERT", {}, jump("ACCEPT"));
  e.versioned(cfg.ipv4_loopback_cidr, kLoopback6, [&](const std::string& lo) {
    return Spec{Table::mangle, "ISTIO_TPROXY",
                e.pick({dst(lo, true), proto("tcp")}, {proto("tcp"), dst(lo, true)}),
                TproxyTarget{cfg.tproxy_mark, cfg.inbound_capture_port}};
  });
}

// S19: the connection keeps the divert mark so replies route back through the TPROXY table; the
// proxy's lo traffic gets 1338 so that ISTIO_INBOUND re-captures only that.
void tproxy_marks(const Config& cfg, Emitter& e) {
  if (cfg.mode != InterceptMode::tproxy) return;
  const std::string& t = cfg.tproxy_mark;
  e.both(Table::mangle, "PREROUTING", {proto("tcp"), mark(t)}, ConnmarkTarget{false});
  e.both(Table::mangle, "OUTPUT",
         e.pick({proto("tcp"), out_if("lo"), mark(t)}, {out_if("lo"), proto("tcp"), mark(t)}),
         jump("RETURN"));
  auto out_mark = [&](bool is_gid, const OwnerId& id) {
    e.versioned(cfg.ipv4_loopback_cidr, kLoopback6, [&](const std::string& lo) {
      return Spec{Table::mangle, "OUTPUT",
                  e.pick({dst(lo, true), proto("tcp"), out_if("lo"), owner(is_gid, id)},
                         {out_if("lo"), proto("tcp"), dst(lo, true), owner(is_gid, id)}),
                  MarkTarget{kOutboundMark}};
    });
  };
  for (const auto& id : cfg.proxy_uids) out_mark(false, id);
  for (const auto& id : cfg.proxy_gids) out_mark(true, id);
  e.both(Table::mangle, "OUTPUT", {proto("tcp"), ConnmarkMatch{t}}, ConnmarkTarget{true});
  // At the head of ISTIO_INBOUND: already diverted, the passthrough source, app to app over lo.
  e.both(Table::mangle, "ISTIO_INBOUND", {proto("tcp"), mark(t)}, jump("RETURN"), 1);
  e.v4(Table::mangle, "ISTIO_INBOUND",
       e.pick({proto("tcp"), src(kPassthrough4), in_if("lo")},
              {in_if("lo"), proto("tcp"), src(kPassthrough4)}),
       jump("RETURN"), 2);
  e.v6(Table::mangle, "ISTIO_INBOUND",
       e.pick({proto("tcp"), src(kPassthrough6), in_if("lo")},
              {in_if("lo"), proto("tcp"), src(kPassthrough6)}),
       jump("RETURN"), 2);
  e.both(Table::mangle, "ISTIO_INBOUND",
         e.pick({proto("tcp"), in_if("lo"), mark(kOutboundMark, true)},
                {in_if("lo"), proto("tcp"), mark(kOutboundMark, true)}),
         jump("RETURN"), 3);
}

}  // namespace snare::build
