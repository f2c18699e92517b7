// TPROXY routing through libnl-route-3 (see routes.h).
#include "kernel/routes.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <linux/fib_rules.h>
#include <net/if.h>
#include <netlink/addr.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>
#include <netlink/route/rule.h>

#include <fstream>

#include "base/log.h"

namespace snare {
namespace {

constexpr const char* kPassthroughAddr = "::6/128";
constexpr int kMaxRuleDeletes = 64;  // a bound on "delete until gone", against a kernel surprise
constexpr int kLoopbackIfindex = 1;  // include/net/net_namespace.h LOOPBACK_IFINDEX

int af(Family f) { return f == Family::v4 ? AF_INET : AF_INET6; }
const char* ip_flag(Family f) { return f == Family::v4 ? "-4" : "-6"; }

// unique_ptr deleters for the libnl objects.
struct NlDel {
  void operator()(nl_sock* s) const { nl_socket_free(s); }
  void operator()(nl_cache* c) const { nl_cache_free(c); }
  void operator()(rtnl_rule* r) const { rtnl_rule_put(r); }
  void operator()(rtnl_route* r) const { rtnl_route_put(r); }
  void operator()(rtnl_addr* a) const { rtnl_addr_put(a); }
  void operator()(rtnl_link* l) const { rtnl_link_put(l); }
  void operator()(nl_addr* a) const { nl_addr_put(a); }
};
template <typename T>
using NlPtr = std::unique_ptr<T, NlDel>;

std::string nl_text(int err) { return nl_geterror(err < 0 ? -err : err); }

bool prefix_empty(nl_addr* a) { return a == nullptr || nl_addr_get_prefixlen(a) == 0; }

// Whether any object of the cache satisfies `pred` (T: the cache's libnl object type).
template <typename T, typename Pred>
bool cache_any(nl_cache* cache, Pred pred) {
  for (nl_object* o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o))
    if (pred(reinterpret_cast<T*>(o))) return true;
  return false;
}

class NetlinkRouteOps final : public RouteOps {
 public:
  Status add_tproxy_routes(Family f, const TproxyRoute& want, Added& created) override {
    created = {};
    const uint32_t table = want.table;
    Status s = connect();
    if (!s.ok()) return s;
    int lo = 0;
    bool lo_up = false;
    s = loopback(lo, lo_up);
    if (!s.ok()) return s;

    bool exists = false;
    s = rule_exists(f, want, exists);
    if (!s.ok()) return s;
    if (!exists) {
      NlPtr<rtnl_rule> r(rule_template(f, want));
      int err = rtnl_rule_add(sk_.get(), r.get(), NLM_F_EXCL);
      if (err < 0 && err != -NLE_EXIST) {
        return Status::Fail(
            fmt::format("ip {} rule add {}: {}", ip_flag(f), rule_text(want), nl_text(err)));
      }
      created.rule = err == 0;
    }

    if (skip_route(f, want)) return Status::Ok();
    if (f == Family::v6 && !lo_up) {
      // The kernel refuses an IPv6 route through a down device, and libnl only says "Unspecific
      // failure"; in a pod lo is always up, so this is a bare `ip netns add` namespace.
      return Status::Fail(fmt::format(
          "ip -6 route add local default dev lo table {}: lo is down in this network namespace "
          "(bring it up: ip link set lo up)",
          table));
    }
    NlPtr<rtnl_route> rt;
    s = route_template(f, table, lo, rt);
    if (!s.ok()) return s;
    int err = rtnl_route_add(sk_.get(), rt.get(), NLM_F_EXCL);
    if (err < 0 && err != -NLE_EXIST) {
      return Status::Fail(fmt::format("ip {} route add local default dev lo table {}: {}",
                                      ip_flag(f), table, nl_text(err)));
    }
    created.route = err == 0;
    log_debug("tproxy routes {}: rule {}, route {}", family_name(f),
              created.rule ? "added" : "present", created.route ? "added" : "present");
    return Status::Ok();
  }

  Status del_tproxy_routes(Family f, const TproxyRoute& want, const Added& which) override {
    const uint32_t table = want.table;
    Status s = connect();
    if (!s.ok()) return s;
    int lo = 0;
    bool lo_up = false;
    s = loopback(lo, lo_up);
    if (!s.ok()) return s;

    int err = 0;
    if (which.route && !skip_route(f, want)) {
      NlPtr<rtnl_route> rt;
      s = route_template(f, table, lo, rt);
      if (!s.ok()) return s;
      // RTPROT_UNSPEC is a wildcard; with libnl's default RTPROT_STATIC the kernel would not find
      // the RTPROT_BOOT route that istio (and `ip route add`) created.
      rtnl_route_set_protocol(rt.get(), RTPROT_UNSPEC);
      err = rtnl_route_delete(sk_.get(), rt.get(), 0);
      if (err < 0 && err != -NLE_OBJ_NOTFOUND && err != -NLE_NOADDR) {
        return Status::Fail(fmt::format("ip {} route del local default dev lo table {}: {}",
                                        ip_flag(f), table, nl_text(err)));
      }
    }
    if (!which.rule) return Status::Ok();

    // One matching rule goes per call; duplicates from earlier `ip rule add` re-runs go too.
    for (int i = 0; i < kMaxRuleDeletes; ++i) {
      NlPtr<rtnl_rule> r(rule_template(f, want));
      err = rtnl_rule_delete(sk_.get(), r.get(), 0);
      if (err == -NLE_OBJ_NOTFOUND) break;
      if (err < 0) {
        return Status::Fail(
            fmt::format("ip {} rule del {}: {}", ip_flag(f), rule_text(want), nl_text(err)));
      }
    }
    return Status::Ok();
  }

  Status query_tproxy_routes(Family f, const TproxyRoute& want, Added& present) override {
    present = {};
    const uint32_t table = want.table;
    Status s = connect();
    if (!s.ok()) return s;
    s = rule_exists(f, want, present.rule);
    if (!s.ok()) return s;
    nl_cache* raw = nullptr;
    int err = rtnl_route_alloc_cache(sk_.get(), af(f), 0, &raw);
    NlPtr<nl_cache> cache(raw);
    if (err < 0) return Status::Fail(fmt::format("ip {} route list: {}", ip_flag(f), nl_text(err)));
    present.route = skip_route(f, want) || cache_any<rtnl_route>(cache.get(), [&](rtnl_route* r) {
                      return rtnl_route_get_table(r) == table &&
                             rtnl_route_get_type(r) == RTN_LOCAL &&
                             prefix_empty(rtnl_route_get_dst(r));
                    });
    return Status::Ok();
  }

  Status list_tproxy_routes(Family f, std::vector<TproxyRoute>& out) override {
    out.clear();
    Status s = connect();
    if (!s.ok()) return s;
    int lo = 0;
    bool up = false;
    if (s = loopback(lo, up); !s.ok()) return s;
    NlPtr<nl_cache> rules, routes;
    if (s = alloc_caches(f, rules, routes); !s.ok()) return s;
    for (nl_object* o = nl_cache_get_first(rules.get()); o; o = nl_cache_get_next(o)) {
      auto* r = reinterpret_cast<rtnl_rule*>(o);
      if (!is_plain_fwmark_rule(f, r)) continue;
      const uint32_t table = rtnl_rule_get_table(r);
      if (holds_only_local_default(routes.get(), table, lo))
        out.push_back({rtnl_rule_get_mark(r), table});
    }
    return Status::Ok();
  }

  Status query_passthrough_addr(bool& present) override {
    present = false;
    NlPtr<rtnl_addr> want;
    Status s = passthrough_template(want);
    if (!s.ok()) return s;
    nl_cache* raw = nullptr;
    int err = rtnl_addr_alloc_cache(sk_.get(), &raw);
    NlPtr<nl_cache> cache(raw);
    if (err < 0) return Status::Fail("ip -6 addr list: " + nl_text(err));
    present = cache_any<rtnl_addr>(cache.get(), [&](rtnl_addr* a) {
      return rtnl_addr_get_ifindex(a) == kLoopbackIfindex && rtnl_addr_get_family(a) == AF_INET6 &&
             rtnl_addr_get_local(a) &&
             nl_addr_cmp(rtnl_addr_get_local(a), rtnl_addr_get_local(want.get())) == 0;
    });
    return Status::Ok();
  }

  Status add_passthrough_addr(bool& created) override {
    created = false;
    NlPtr<rtnl_addr> a;
    Status s = passthrough_template(a);
    if (!s.ok()) return s;
    int err = rtnl_addr_add(sk_.get(), a.get(), NLM_F_EXCL);
    if (err < 0 && err != -NLE_EXIST) {
      return Status::Fail(
          fmt::format("ip -6 addr add {} dev lo: {}", kPassthroughAddr, nl_text(err)));
    }
    created = err == 0;
    return Status::Ok();
  }

  Status del_passthrough_addr() override {
    NlPtr<rtnl_addr> a;
    Status s = passthrough_template(a);
    if (!s.ok()) return s;
    int err = rtnl_addr_delete(sk_.get(), a.get(), 0);
    if (err < 0 && err != -NLE_NOADDR && err != -NLE_OBJ_NOTFOUND) {
      return Status::Fail(
          fmt::format("ip -6 addr del {} dev lo: {}", kPassthroughAddr, nl_text(err)));
    }
    return Status::Ok();
  }

 private:
  Status connect() {
    if (sk_) return Status::Ok();
    NlPtr<nl_sock> sk(nl_socket_alloc());
    if (!sk) return Status::Fail("netlink: out of memory");
    int err = nl_connect(sk.get(), NETLINK_ROUTE);
    if (err < 0) return Status::Fail("netlink: cannot open a route socket: " + nl_text(err));
    sk_ = std::move(sk);
    return Status::Ok();
  }

  Status loopback(int& ifindex, bool& up) {
    rtnl_link* raw = nullptr;
    int err = rtnl_link_get_kernel(sk_.get(), 0, "lo", &raw);
    NlPtr<rtnl_link> link(raw);
    if (err < 0 || !link) return Status::Fail("netlink: cannot find lo: " + nl_text(err));
    ifindex = rtnl_link_get_ifindex(link.get());
    up = (rtnl_link_get_flags(link.get()) & IFF_UP) != 0;
    return Status::Ok();
  }

  static rtnl_rule* rule_template(Family f, const TproxyRoute& want) {
    rtnl_rule* r = rtnl_rule_alloc();
    rtnl_rule_set_family(r, af(f));
    rtnl_rule_set_mark(r, want.mark);
    // Without FRA_FWMASK the kernel uses 0xffffffff, like iproute2: only a narrower mask is sent.
    if (want.mask != 0xffffffffU) rtnl_rule_set_mask(r, want.mask);
    if (want.priority) rtnl_rule_set_prio(r, want.priority);
    rtnl_rule_set_table(r, want.table);
    rtnl_rule_set_action(r, FR_ACT_TO_TBL);
    return r;
  }

  // istio-cni's rule for its IPv6 route: none when lo has IPv6 disabled in this namespace (read
  // from the namespace's own /proc/sys/net; an unreadable value counts as enabled, as istio's).
  static bool skip_route(Family f, const TproxyRoute& want) {
    if (f != Family::v6 || !want.v6_route_needs_lo_ipv6) return false;
    std::ifstream in("/proc/sys/net/ipv6/conf/lo/disable_ipv6");
    std::string v;
    return in >> v && v == "1";
  }

  static std::string rule_text(const TproxyRoute& r) {
    std::string mark = r.mask == 0xffffffffU ? fmt::format("{:#x}", r.mark)
                                             : fmt::format("{:#x}/{:#x}", r.mark, r.mask);
    return r.priority ? fmt::format("fwmark {} pref {} lookup {}", mark, r.priority, r.table)
                      : fmt::format("fwmark {} lookup {}", mark, r.table);
  }

  Status alloc_caches(Family f, NlPtr<nl_cache>& rules, NlPtr<nl_cache>& routes) {
    nl_cache* raw = nullptr;
    int err = rtnl_rule_alloc_cache(sk_.get(), af(f), &raw);
    rules.reset(raw);
    if (err < 0) return Status::Fail(fmt::format("ip {} rule list: {}", ip_flag(f), nl_text(err)));
    raw = nullptr;
    err = rtnl_route_alloc_cache(sk_.get(), af(f), 0, &raw);
    routes.reset(raw);
    if (err < 0) return Status::Fail(fmt::format("ip {} route list: {}", ip_flag(f), nl_text(err)));
    return Status::Ok();
  }

  // "from all fwmark <mark> lookup <table>" and nothing more.
  static bool is_plain_fwmark_rule(Family f, rtnl_rule* r) {
    return rtnl_rule_get_family(r) == af(f) && rtnl_rule_get_action(r) == FR_ACT_TO_TBL &&
           rtnl_rule_get_mark(r) != 0 && rtnl_rule_get_mask(r) == 0xffffffffU &&
           prefix_empty(rtnl_rule_get_src(r)) && prefix_empty(rtnl_rule_get_dst(r)) &&
           rtnl_rule_get_iif(r) == nullptr && rtnl_rule_get_oif(r) == nullptr;
  }

  // Table `table` holds one route, and it is `local default dev lo`.
  static bool holds_only_local_default(nl_cache* routes, uint32_t table, int lo) {
    int count = 0;
    bool istio = false;
    for (nl_object* o = nl_cache_get_first(routes); o; o = nl_cache_get_next(o)) {
      auto* rt = reinterpret_cast<rtnl_route*>(o);
      if (rtnl_route_get_table(rt) != table) continue;
      ++count;
      rtnl_nexthop* nh = rtnl_route_nexthop_n(rt, 0);
      istio = rtnl_route_get_type(rt) == RTN_LOCAL && prefix_empty(rtnl_route_get_dst(rt)) &&
              rtnl_route_get_nnexthops(rt) == 1 && nh && rtnl_route_nh_get_ifindex(nh) == lo;
    }
    return count == 1 && istio;
  }

  // An existing rule counts when it is exactly "from all fwmark <mark>[/<mask>] lookup <table>"
  // (at the priority asked for, when one is).
  Status rule_exists(Family f, const TproxyRoute& want, bool& exists) {
    exists = false;
    nl_cache* raw = nullptr;
    int err = rtnl_rule_alloc_cache(sk_.get(), af(f), &raw);
    NlPtr<nl_cache> cache(raw);
    if (err < 0) return Status::Fail(fmt::format("ip {} rule list: {}", ip_flag(f), nl_text(err)));
    exists = cache_any<rtnl_rule>(cache.get(), [&](rtnl_rule* r) {
      return rtnl_rule_get_family(r) == af(f) && rtnl_rule_get_action(r) == FR_ACT_TO_TBL &&
             rtnl_rule_get_table(r) == want.table && rtnl_rule_get_mark(r) == want.mark &&
             rtnl_rule_get_mask(r) == want.mask &&
             (want.priority == 0 || rtnl_rule_get_prio(r) == want.priority) &&
             prefix_empty(rtnl_rule_get_src(r)) && prefix_empty(rtnl_rule_get_dst(r)) &&
             rtnl_rule_get_iif(r) == nullptr && rtnl_rule_get_oif(r) == nullptr;
    });
    return Status::Ok();
  }

  static Status route_template(Family f, uint32_t table, int lo, NlPtr<rtnl_route>& out) {
    nl_addr* raw = nullptr;
    int err = nl_addr_parse("default", af(f), &raw);
    NlPtr<nl_addr> dst(raw);
    if (err < 0) return Status::Fail("netlink: cannot build the default route: " + nl_text(err));
    NlPtr<rtnl_route> rt(rtnl_route_alloc());
    rtnl_route_set_family(rt.get(), static_cast<uint8_t>(af(f)));
    rtnl_route_set_type(rt.get(), RTN_LOCAL);
    rtnl_route_set_table(rt.get(), table);
    rtnl_route_set_dst(rt.get(), dst.get());
    rtnl_route_set_protocol(rt.get(), RTPROT_BOOT);  // what `ip route add` sets; libnl's is static
    rtnl_nexthop* nh = rtnl_route_nh_alloc();
    rtnl_route_nh_set_ifindex(nh, lo);
    rtnl_route_add_nexthop(rt.get(), nh);  // the route owns nh now
    out = std::move(rt);
    return Status::Ok();
  }

  Status passthrough_template(NlPtr<rtnl_addr>& out) {
    Status s = connect();
    if (!s.ok()) return s;
    nl_addr* raw = nullptr;
    int err = nl_addr_parse(kPassthroughAddr, AF_INET6, &raw);
    NlPtr<nl_addr> local(raw);
    if (err < 0) return Status::Fail("netlink: cannot parse ::6: " + nl_text(err));
    NlPtr<rtnl_addr> a(rtnl_addr_alloc());
    // The kernel gives the loopback device ifindex 1 in every namespace (LOOPBACK_IFINDEX), so
    // the address needs no link lookup, whatever lo is called.
    rtnl_addr_set_ifindex(a.get(), kLoopbackIfindex);
    rtnl_addr_set_family(a.get(), AF_INET6);
    err = rtnl_addr_set_local(a.get(), local.get());
    if (err < 0) return Status::Fail("netlink: cannot set ::6: " + nl_text(err));
    out = std::move(a);
    return Status::Ok();
  }

  NlPtr<nl_sock> sk_;
};

}  // namespace

std::unique_ptr<RouteOps> make_netlink_route_ops() { return std::make_unique<NetlinkRouteOps>(); }

}  // namespace snare
