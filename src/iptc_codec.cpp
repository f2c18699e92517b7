// Rule <-> ipt_entry / ip6t_entry. See iptc_codec.h for the contract, libiptc-guide.md §2-§4 for
// the layouts (verified byte-identical with iptables-legacy 1.8.9 on Linux 6.18).
#include "iptc_codec.h"

// glibc's network headers must come before the kernel's (linux/in.h, linux/if.h) or they clash.
// clang-format off
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/x_tables.h>
#include <linux/netfilter/xt_CT.h>
#include <linux/netfilter/xt_TPROXY.h>
#include <linux/netfilter/xt_connmark.h>
#include <linux/netfilter/xt_conntrack.h>
#include <linux/netfilter/xt_mark.h>
#include <linux/netfilter/xt_multiport.h>
#include <linux/netfilter/xt_owner.h>
#include <linux/netfilter/xt_tcpudp.h>
#include <linux/netfilter_ipv4/ip_tables.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
// clang-format on
#include <fmt/format.h>

#include <charconv>
#include <cstring>
#include <type_traits>

namespace snare {
namespace {

constexpr size_t align8(size_t n) { return (n + 7) & ~size_t{7}; }

// --- small parsers ---------------------------------------------------------------------------

bool parse_u32(std::string_view s, int base, uint32_t& out) {
  if (s.empty()) return false;
  unsigned long v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || p != s.data() + s.size() || v > 0xffffffffUL) return false;
  out = static_cast<uint32_t>(v);
  return true;
}

// Decimal, or hex with a 0x prefix (istio never means octal).
bool parse_number(std::string_view s, uint32_t& out) {
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
    return parse_u32(s.substr(2), 16, out);
  return parse_u32(s, 10, out);
}

bool parse_port(std::string_view s, uint16_t& out) {
  uint32_t v = 0;
  if (!parse_u32(s, 10, v) || v > 0xffff) return false;
  out = static_cast<uint16_t>(v);
  return true;
}

// "80", "1000:2000", ":2000", "1000:" (iptables' port range syntax).
bool parse_port_range(const std::string& s, uint16_t& lo, uint16_t& hi) {
  auto colon = s.find(':');
  if (colon == std::string::npos) {
    if (!parse_port(s, lo)) return false;
    hi = lo;
    return true;
  }
  std::string_view a(s.data(), colon), b(s.data() + colon + 1, s.size() - colon - 1);
  lo = 0;
  hi = 0xffff;
  if (!a.empty() && !parse_port(a, lo)) return false;
  if (!b.empty() && !parse_port(b, hi)) return false;
  return lo <= hi;
}

std::string port_text(uint16_t lo, uint16_t hi) {
  return lo == hi ? std::to_string(lo) : fmt::format("{}:{}", lo, hi);
}

// "a.b.c.d[/n]" or "x::y[/n]"; the address is masked, as iptables stores it.
bool parse_cidr(Family f, const std::string& text, unsigned char* addr, unsigned char* mask) {
  const int bytes = f == Family::v4 ? 4 : 16;
  std::string host = text;
  int prefix = bytes * 8;
  if (auto slash = text.find('/'); slash != std::string::npos) {
    host = text.substr(0, slash);
    uint32_t p = 0;
    if (!parse_u32(std::string_view(text).substr(slash + 1), 10, p) || p > uint32_t(bytes * 8))
      return false;
    prefix = static_cast<int>(p);
  }
  if (inet_pton(f == Family::v4 ? AF_INET : AF_INET6, host.c_str(), addr) != 1) return false;
  for (int i = 0; i < bytes; i++) {
    int bits = prefix - i * 8;
    mask[i] = bits >= 8 ? 0xff : bits <= 0 ? 0 : static_cast<unsigned char>(0xff << (8 - bits));
    addr[i] &= mask[i];
  }
  return true;
}

// iptables-save spelling: "addr/prefix" for a contiguous mask, "addr/maskaddr" otherwise.
std::string cidr_text(Family f, const unsigned char* addr, const unsigned char* mask) {
  const int bytes = f == Family::v4 ? 4 : 16;
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(f == Family::v4 ? AF_INET : AF_INET6, addr, buf, sizeof buf);
  int prefix = 0;
  bool contiguous = true;
  for (int i = 0; i < bytes * 8; i++) {
    bool bit = mask[i / 8] & (0x80 >> (i % 8));
    if (bit && prefix != i) contiguous = false;
    if (bit) prefix++;
  }
  if (contiguous) return fmt::format("{}/{}", buf, prefix);
  char mbuf[INET6_ADDRSTRLEN] = {};
  inet_ntop(f == Family::v4 ? AF_INET : AF_INET6, mask, mbuf, sizeof mbuf);
  return fmt::format("{}/{}", buf, mbuf);
}

bool parse_iface(const std::string& name, char* via, unsigned char* mask) {
  if (name.empty() || name.size() >= IFNAMSIZ) return false;
  std::memcpy(via, name.data(), name.size());
  // `eth+` matches the prefix only; otherwise the NUL is part of the match (`lo` is not `lo0`).
  if (name.back() == '+')
    std::memset(mask, 0xff, name.size() - 1);
  else
    std::memset(mask, 0xff, name.size() + 1);
  return true;
}

std::string cstr(const char* p, size_t max) { return std::string(p, strnlen(p, max)); }

int proto_number(const std::string& name) {
  if (name == "tcp") return IPPROTO_TCP;
  if (name == "udp") return IPPROTO_UDP;
  uint32_t v = 0;
  if (parse_u32(name, 10, v) && v < 256) return static_cast<int>(v);
  return -1;
}

std::string proto_name(unsigned p) {
  switch (p) {
    case IPPROTO_TCP:
      return "tcp";
    case IPPROTO_UDP:
      return "udp";
    case IPPROTO_ICMP:
      return "icmp";
    case IPPROTO_ICMPV6:
      return "ipv6-icmp";
    case IPPROTO_SCTP:
      return "sctp";
    default:
      return std::to_string(p);
  }
}

// --- family traits -----------------------------------------------------------------------------

struct V4 {
  using Entry = ipt_entry;
  static constexpr Family family = Family::v4;
  static constexpr int addr_len = 4;
  static unsigned char* src(Entry* e) { return reinterpret_cast<unsigned char*>(&e->ip.src); }
  static unsigned char* dst(Entry* e) { return reinterpret_cast<unsigned char*>(&e->ip.dst); }
  static unsigned char* smsk(Entry* e) { return reinterpret_cast<unsigned char*>(&e->ip.smsk); }
  static unsigned char* dmsk(Entry* e) { return reinterpret_cast<unsigned char*>(&e->ip.dmsk); }
  template <typename E>
  static auto& ip(E* e) {
    return e->ip;
  }
};

struct V6 {
  using Entry = ip6t_entry;
  static constexpr Family family = Family::v6;
  static constexpr int addr_len = 16;
  static unsigned char* src(Entry* e) { return reinterpret_cast<unsigned char*>(&e->ipv6.src); }
  static unsigned char* dst(Entry* e) { return reinterpret_cast<unsigned char*>(&e->ipv6.dst); }
  static unsigned char* smsk(Entry* e) { return reinterpret_cast<unsigned char*>(&e->ipv6.smsk); }
  static unsigned char* dmsk(Entry* e) { return reinterpret_cast<unsigned char*>(&e->ipv6.dmsk); }
  template <typename E>
  static auto& ip(E* e) {
    return e->ipv6;
  }
};

// Invert bits share values between ipt_ip and ip6t_ip6.
constexpr uint8_t kInvIn = IPT_INV_VIA_IN, kInvOut = IPT_INV_VIA_OUT, kInvSrc = IPT_INV_SRCIP,
                  kInvDst = IPT_INV_DSTIP, kInvProto = XT_INV_PROTO;
static_assert(IP6T_INV_SRCIP == IPT_INV_SRCIP && IP6T_INV_DSTIP == IPT_INV_DSTIP &&
              IP6T_INV_VIA_IN == IPT_INV_VIA_IN && IP6T_INV_VIA_OUT == IPT_INV_VIA_OUT);

// --- building an entry ---------------------------------------------------------------------------

// Appends extensions (matches, then the target) to a zeroed, growing buffer and hands out pointers
// into it: the payload is written in place, never copied from a C++ value (padding bytes).
class EntryBuilder {
 public:
  explicit EntryBuilder(size_t header) : buf_(header, 0), header_(header) {}

  template <typename T>
  T* add(const char* name, uint8_t revision, bool target = false, size_t payload = sizeof(T)) {
    size_t size = align8(sizeof(xt_entry_match) + payload);
    static_assert(sizeof(xt_entry_match) == sizeof(xt_entry_target));
    size_t off = buf_.size();
    buf_.resize(off + size, 0);
    auto* m = reinterpret_cast<xt_entry_match*>(buf_.data() + off);
    m->u.user.match_size = static_cast<uint16_t>(size);
    std::strncpy(m->u.user.name, name, sizeof m->u.user.name - 1);
    m->u.user.revision = revision;
    if (target) target_off_ = off;
    return reinterpret_cast<T*>(m->data);
  }
  unsigned char* data() { return buf_.data(); }
  size_t size() const { return buf_.size(); }
  size_t target_offset() const { return target_off_; }
  EntryBytes take() { return std::move(buf_); }

 private:
  EntryBytes buf_;
  size_t header_;
  size_t target_off_ = 0;
};

template <typename F>
Status encode_impl(const Rule& rule, EntryBytes& out) {
  using Entry = typename F::Entry;
  constexpr Family fam = F::family;
  EntryBuilder b(sizeof(Entry));
  auto entry = [&] { return reinterpret_cast<Entry*>(b.data()); };
  auto fail = [&](const std::string& what) {
    return Status::Fail(
        fmt::format("cannot encode a rule of {} {}: {}", table_name(rule.table), rule.chain, what));
  };

  // Header: addresses, interfaces, protocol.
  int proto = 0;
  for (const Match& m : rule.matches) {
    if (auto* a = std::get_if<AddrMatch>(&m)) {
      unsigned char addr[16] = {}, mask[16] = {};
      if (!parse_cidr(fam, a->cidr, addr, mask))
        return fail(fmt::format("bad address '{}'", a->cidr));
      Entry* e = entry();
      std::memcpy(a->source ? F::src(e) : F::dst(e), addr, F::addr_len);
      std::memcpy(a->source ? F::smsk(e) : F::dmsk(e), mask, F::addr_len);
      if (a->invert) F::ip(e).invflags |= a->source ? kInvSrc : kInvDst;
    } else if (auto* i = std::get_if<IfaceMatch>(&m)) {
      auto& ip = F::ip(entry());
      bool ok = i->out ? parse_iface(i->name, ip.outiface, ip.outiface_mask)
                       : parse_iface(i->name, ip.iniface, ip.iniface_mask);
      if (!ok) return fail(fmt::format("bad interface name '{}'", i->name));
      if (i->invert) ip.invflags |= i->out ? kInvOut : kInvIn;
    } else if (auto* p = std::get_if<ProtoMatch>(&m)) {
      proto = proto_number(p->name);
      if (proto < 0) return fail(fmt::format("unknown protocol '{}'", p->name));
      auto& ip = F::ip(entry());
      ip.proto = static_cast<uint16_t>(proto);
      // ip6_tables ignores proto unless this flag is set (libiptc-guide.md §2 pitfall).
      if constexpr (fam == Family::v6) ip.flags |= IP6T_F_PROTO;
    }
  }

  // Matches, in the rule's order; the tcp/udp match sits where its first port option is.
  bool l4_added = false;
  for (const Match& m : rule.matches) {
    if (auto* pm = std::get_if<PortMatch>(&m)) {
      if (l4_added) continue;
      l4_added = true;
      if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
        return fail("--sport/--dport without -p tcp|udp");
      uint16_t spt[2] = {0, 0xffff}, dpt[2] = {0, 0xffff};
      uint8_t inv = 0;
      for (const Match& m2 : rule.matches) {
        auto* p2 = std::get_if<PortMatch>(&m2);
        if (!p2) continue;
        uint16_t* r = p2->source ? spt : dpt;
        if (!parse_port_range(p2->port, r[0], r[1]))
          return fail(fmt::format("bad port '{}'", p2->port));
        if (p2->invert) inv |= p2->source ? XT_TCP_INV_SRCPT : XT_TCP_INV_DSTPT;
      }
      if (proto == IPPROTO_TCP) {
        auto* t = b.add<xt_tcp>("tcp", 0);
        t->spts[0] = spt[0], t->spts[1] = spt[1], t->dpts[0] = dpt[0], t->dpts[1] = dpt[1];
        t->invflags = inv;
      } else {
        auto* u = b.add<xt_udp>("udp", 0);
        u->spts[0] = spt[0], u->spts[1] = spt[1], u->dpts[0] = dpt[0], u->dpts[1] = dpt[1];
        u->invflags = inv;
      }
    } else if (auto* mp = std::get_if<MultiportMatch>(&m)) {
      if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
        return fail("-m multiport without -p tcp|udp");
      auto* info = b.add<xt_multiport_v1>("multiport", 1);
      info->flags = XT_MULTIPORT_DESTINATION;
      info->invert = mp->invert ? 1 : 0;
      unsigned n = 0;
      for (const std::string& p : mp->ports) {
        uint16_t lo = 0, hi = 0;
        if (!parse_port_range(p, lo, hi)) return fail(fmt::format("bad port '{}'", p));
        unsigned need = lo == hi ? 1 : 2;
        if (n + need > XT_MULTI_PORTS) return fail("more than 15 ports in one multiport match");
        info->ports[n] = lo;
        if (lo != hi) {
          info->pflags[n] = 1;
          info->ports[++n] = hi;
        }
        n++;
      }
      info->count = static_cast<uint8_t>(n);
    } else if (auto* o = std::get_if<OwnerMatch>(&m)) {
      uint32_t id = 0;
      if (!parse_u32(o->id, 10, id))
        return fail(fmt::format("owner id '{}' is not numeric", o->id));
      auto* info = b.add<xt_owner_match_info>("owner", 1);
      uint8_t bit = o->gid ? XT_OWNER_GID : XT_OWNER_UID;
      if (o->gid)
        info->gid_min = info->gid_max = id;
      else
        info->uid_min = info->uid_max = id;
      info->match = bit;
      info->invert = o->invert ? bit : 0;
    } else if (auto* mk = std::get_if<MarkMatch>(&m)) {
      uint32_t v = 0, mask = 0;
      if (!parse_mark(mk->mark, v, mask)) return fail(fmt::format("bad mark '{}'", mk->mark));
      auto* info = b.add<xt_mark_mtinfo1>("mark", 1);
      info->mark = v, info->mask = mask, info->invert = mk->invert ? 1 : 0;
    } else if (auto* cm = std::get_if<ConnmarkMatch>(&m)) {
      uint32_t v = 0, mask = 0;
      if (!parse_mark(cm->mark, v, mask)) return fail(fmt::format("bad mark '{}'", cm->mark));
      auto* info = b.add<xt_connmark_mtinfo1>("connmark", 1);
      info->mark = v, info->mask = mask;
    } else if (auto* ct = std::get_if<ConntrackMatch>(&m)) {
      uint16_t mask = 0;
      for (const std::string& s : ct->states) {
        if (s == "INVALID")
          mask |= XT_CONNTRACK_STATE_INVALID;
        else if (s == "NEW")
          mask |= XT_CONNTRACK_STATE_BIT(IP_CT_NEW);
        else if (s == "RELATED")
          mask |= XT_CONNTRACK_STATE_BIT(IP_CT_RELATED);
        else if (s == "ESTABLISHED")
          mask |= XT_CONNTRACK_STATE_BIT(IP_CT_ESTABLISHED);
        else if (s == "UNTRACKED")
          mask |= XT_CONNTRACK_STATE_UNTRACKED;
        else if (s == "SNAT")
          mask |= XT_CONNTRACK_STATE_SNAT;
        else if (s == "DNAT")
          mask |= XT_CONNTRACK_STATE_DNAT;
        else
          return fail(fmt::format("unknown conntrack state '{}'", s));
      }
      auto* info = b.add<xt_conntrack_mtinfo3>("conntrack", 3);
      info->match_flags = XT_CONNTRACK_STATE;
      info->state_mask = mask;
    }
  }

  // Target.
  if (auto* j = std::get_if<JumpTarget>(&rule.target)) {
    if (j->chain.empty() || j->chain.size() >= XT_EXTENSION_MAXNAMELEN)
      return fail(fmt::format("bad jump target '{}'", j->chain));
    // A standard target named by its label; libiptc turns it into a verdict or a jump offset.
    b.add<int>(j->chain.c_str(), 0, true);
  } else if (auto* r = std::get_if<RedirectTarget>(&rule.target)) {
    uint16_t lo = 0, hi = 0;
    std::string p = r->port;
    if (auto dash = p.find('-'); dash != std::string::npos) p[dash] = ':';
    if (!parse_port_range(p, lo, hi)) return fail(fmt::format("bad redirect port '{}'", r->port));
    if constexpr (fam == Family::v4) {
      auto* mr = b.add<nf_nat_ipv4_multi_range_compat>("REDIRECT", 0, true);
      mr->rangesize = 1;
      mr->range[0].flags = NF_NAT_RANGE_PROTO_SPECIFIED;
      mr->range[0].min.tcp.port = htons(lo);
      mr->range[0].max.tcp.port = htons(hi);
    } else {
      auto* nr = b.add<nf_nat_range>("REDIRECT", 0, true);
      nr->flags = NF_NAT_RANGE_PROTO_SPECIFIED;
      nr->min_proto.tcp.port = htons(lo);
      nr->max_proto.tcp.port = htons(hi);
    }
  } else if (auto* t = std::get_if<TproxyTarget>(&rule.target)) {
    uint32_t v = 0, mask = 0;
    uint16_t port = 0;
    if (!parse_mark(t->mark, v, mask)) return fail(fmt::format("bad tproxy mark '{}'", t->mark));
    if (!parse_port(t->port, port)) return fail(fmt::format("bad tproxy port '{}'", t->port));
    auto* info = b.add<xt_tproxy_target_info_v1>("TPROXY", 1, true);
    info->mark_value = v, info->mark_mask = mask, info->lport = htons(port);
  } else if (auto* mt = std::get_if<MarkTarget>(&rule.target)) {
    uint32_t v = 0, mask = 0;
    if (!parse_mark(mt->mark, v, mask)) return fail(fmt::format("bad mark '{}'", mt->mark));
    auto* info = b.add<xt_mark_tginfo2>("MARK", 2, true);
    info->mark = v, info->mask = mask;  // --set-mark V is --set-xmark V/0xffffffff
  } else if (auto* cn = std::get_if<ConnmarkTarget>(&rule.target)) {
    auto* info = b.add<xt_connmark_tginfo2>("CONNMARK", 2, true);
    info->mode = cn->restore ? XT_CONNMARK_RESTORE : XT_CONNMARK_SAVE;
    info->ctmask = info->nfmask = 0xffffffff;
  } else if (auto* cz = std::get_if<CtZoneTarget>(&rule.target)) {
    if (cz->zone < 0 || cz->zone > 0xffff)
      return fail(fmt::format("bad conntrack zone {}", cz->zone));
    auto* info = b.add<xt_ct_target_info_v1>("CT", 2, true);
    info->zone = static_cast<uint16_t>(cz->zone);
  }

  Entry* e = entry();
  e->target_offset = static_cast<uint16_t>(b.target_offset());
  e->next_offset = static_cast<uint16_t>(b.size());
  out = b.take();
  return Status::Ok();
}

// --- reading an entry ---------------------------------------------------------------------------

template <typename F>
DecodedRule decode_impl(const void* raw, const char* label) {
  using Entry = typename F::Entry;
  constexpr Family fam = F::family;
  // The entry may come from libiptc's buffer: copy the header to an aligned place first.
  Entry hdr;
  std::memcpy(&hdr, raw, sizeof hdr);
  const auto* base = static_cast<const unsigned char*>(raw);
  DecodedRule d;
  Rule& r = d.rule;
  auto& ip = F::ip(&hdr);

  bool any_src = false, any_dst = false;
  for (int i = 0; i < F::addr_len; i++) {
    any_src |= F::smsk(&hdr)[i] != 0;
    any_dst |= F::dmsk(&hdr)[i] != 0;
  }
  if (any_src || (ip.invflags & kInvSrc))
    r.matches.push_back(
        AddrMatch{true, (ip.invflags & kInvSrc) != 0, cidr_text(fam, F::src(&hdr), F::smsk(&hdr))});
  if (any_dst || (ip.invflags & kInvDst))
    r.matches.push_back(AddrMatch{false, (ip.invflags & kInvDst) != 0,
                                  cidr_text(fam, F::dst(&hdr), F::dmsk(&hdr))});
  if (ip.iniface[0] || (ip.invflags & kInvIn))
    r.matches.push_back(IfaceMatch{false, (ip.invflags & kInvIn) != 0, cstr(ip.iniface, IFNAMSIZ)});
  if (ip.outiface[0] || (ip.invflags & kInvOut))
    r.matches.push_back(
        IfaceMatch{true, (ip.invflags & kInvOut) != 0, cstr(ip.outiface, IFNAMSIZ)});
  if (ip.proto) r.matches.push_back(ProtoMatch{proto_name(ip.proto)});
  if (ip.invflags & kInvProto) d.unsupported.push_back("! -p");
  if constexpr (fam == Family::v4) {
    if (ip.flags & IPT_F_FRAG) d.unsupported.push_back(ip.invflags & IPT_INV_FRAG ? "! -f" : "-f");
    if (ip.flags & IPT_F_GOTO) d.unsupported.push_back("-g");
  } else {
    if (ip.flags & IP6T_F_GOTO) d.unsupported.push_back("-g");
    if (ip.flags & IP6T_F_TOS) d.unsupported.push_back("--tos");
    if (ip.proto && !(ip.flags & IP6T_F_PROTO)) d.unsupported.push_back("-p without IP6T_F_PROTO");
  }

  for (size_t off = sizeof(Entry); off + sizeof(xt_entry_match) <= hdr.target_offset;) {
    xt_entry_match mh;
    std::memcpy(&mh, base + off, sizeof mh);
    if (mh.u.user.match_size < sizeof(xt_entry_match)) break;
    const unsigned char* data = base + off + sizeof(xt_entry_match);
    std::string name = cstr(mh.u.user.name, sizeof mh.u.user.name);
    size_t psize = mh.u.user.match_size - sizeof(xt_entry_match);
    int rev = mh.u.user.revision;
    auto unsupported = [&] { d.unsupported.push_back(fmt::format("-m {} (rev {})", name, rev)); };
    auto fits = [&](size_t need) { return psize >= need; };
    if ((name == "tcp" || name == "udp") && rev == 0 && fits(sizeof(xt_tcp) - 2)) {
      uint16_t spts[2], dpts[2];
      uint8_t inv = 0;
      bool extra = false;
      if (name == "tcp") {
        xt_tcp t;
        std::memcpy(&t, data, sizeof t);
        std::memcpy(spts, t.spts, 4), std::memcpy(dpts, t.dpts, 4), inv = t.invflags;
        extra = t.option || t.flg_mask || (inv & ~(XT_TCP_INV_SRCPT | XT_TCP_INV_DSTPT));
      } else {
        xt_udp u;
        std::memcpy(&u, data, sizeof u);
        std::memcpy(spts, u.spts, 4), std::memcpy(dpts, u.dpts, 4), inv = u.invflags;
        extra = inv & ~(XT_UDP_INV_SRCPT | XT_UDP_INV_DSTPT);
      }
      if (extra) unsupported();
      bool any = false;
      if (spts[0] != 0 || spts[1] != 0xffff || (inv & XT_TCP_INV_SRCPT)) {
        r.matches.push_back(
            PortMatch{true, (inv & XT_TCP_INV_SRCPT) != 0, port_text(spts[0], spts[1])});
        any = true;
      }
      if (dpts[0] != 0 || dpts[1] != 0xffff || (inv & XT_TCP_INV_DSTPT)) {
        r.matches.push_back(
            PortMatch{false, (inv & XT_TCP_INV_DSTPT) != 0, port_text(dpts[0], dpts[1])});
        any = true;
      }
      // A bare `-m tcp` has no Rule spelling.
      if (!any) d.unsupported.push_back("-m " + name + " without ports");
    } else if (name == "multiport" && rev == 1 && fits(sizeof(xt_multiport_v1))) {
      xt_multiport_v1 mp;
      std::memcpy(&mp, data, sizeof mp);
      if (mp.flags != XT_MULTIPORT_DESTINATION || mp.count > XT_MULTI_PORTS) unsupported();
      MultiportMatch out{mp.invert != 0, {}};
      for (unsigned i = 0; i < mp.count && i < XT_MULTI_PORTS; i++) {
        if (mp.pflags[i] && i + 1 < mp.count) {
          out.ports.push_back(port_text(mp.ports[i], mp.ports[i + 1]));
          i++;
        } else {
          out.ports.push_back(std::to_string(mp.ports[i]));
        }
      }
      r.matches.push_back(std::move(out));
    } else if (name == "owner" && rev == 1 && fits(sizeof(xt_owner_match_info))) {
      xt_owner_match_info o;
      std::memcpy(&o, data, sizeof o);
      if (o.match == XT_OWNER_UID && o.uid_min == o.uid_max && (o.invert & ~XT_OWNER_UID) == 0)
        r.matches.push_back(OwnerMatch{false, o.invert != 0, std::to_string(o.uid_min)});
      else if (o.match == XT_OWNER_GID && o.gid_min == o.gid_max && (o.invert & ~XT_OWNER_GID) == 0)
        r.matches.push_back(OwnerMatch{true, o.invert != 0, std::to_string(o.gid_min)});
      else
        unsupported();
    } else if (name == "mark" && rev == 1 && fits(sizeof(xt_mark_mtinfo1))) {
      xt_mark_mtinfo1 m;
      std::memcpy(&m, data, sizeof m);
      r.matches.push_back(MarkMatch{m.invert != 0, format_mark(m.mark, m.mask)});
    } else if (name == "connmark" && rev == 1 && fits(sizeof(xt_connmark_mtinfo1))) {
      xt_connmark_mtinfo1 m;
      std::memcpy(&m, data, sizeof m);
      if (m.invert) unsupported();
      r.matches.push_back(ConnmarkMatch{format_mark(m.mark, m.mask)});
    } else if (name == "conntrack" && rev == 3 && fits(sizeof(xt_conntrack_mtinfo3))) {
      xt_conntrack_mtinfo3 c;
      std::memcpy(&c, data, sizeof c);
      if (c.match_flags != XT_CONNTRACK_STATE || c.invert_flags) unsupported();
      ConntrackMatch out;
      const std::pair<uint16_t, const char*> order[] = {
          {XT_CONNTRACK_STATE_INVALID, "INVALID"},
          {XT_CONNTRACK_STATE_BIT(IP_CT_NEW), "NEW"},
          {XT_CONNTRACK_STATE_BIT(IP_CT_RELATED), "RELATED"},
          {XT_CONNTRACK_STATE_BIT(IP_CT_ESTABLISHED), "ESTABLISHED"},
          {XT_CONNTRACK_STATE_UNTRACKED, "UNTRACKED"},
          {XT_CONNTRACK_STATE_SNAT, "SNAT"},
          {XT_CONNTRACK_STATE_DNAT, "DNAT"}};
      for (auto& [bit, s] : order)
        if (c.state_mask & bit) out.states.push_back(s);
      r.matches.push_back(std::move(out));
    } else {
      unsupported();
    }
    off += mh.u.user.match_size;
  }

  // Target.
  std::string lab = label ? label : "";
  xt_entry_target th;
  std::memset(&th, 0, sizeof th);
  if (hdr.target_offset + sizeof th <= hdr.next_offset)
    std::memcpy(&th, base + hdr.target_offset, sizeof th);
  std::string tname = cstr(th.u.user.name, sizeof th.u.user.name);
  const unsigned char* tdata = base + hdr.target_offset + sizeof(xt_entry_target);
  size_t tsize = th.u.user.target_size >= sizeof th ? th.u.user.target_size - sizeof th : 0;
  int trev = th.u.user.revision;
  auto tunsupported = [&] {
    d.unsupported.push_back(fmt::format("-j {} (rev {})", tname, trev));
    r.target = JumpTarget{tname};
  };
  if (tname.empty() || tname == XT_STANDARD_TARGET) {
    if (lab.empty()) d.unsupported.push_back("no target");
    r.target = JumpTarget{lab};
  } else if (tname == "REDIRECT" && trev == 0) {
    uint32_t flags = 0;
    uint16_t lo = 0, hi = 0;
    if (fam == Family::v4 && tsize >= sizeof(nf_nat_ipv4_multi_range_compat)) {
      nf_nat_ipv4_multi_range_compat mr;
      std::memcpy(&mr, tdata, sizeof mr);
      flags = mr.range[0].flags, lo = ntohs(mr.range[0].min.tcp.port),
      hi = ntohs(mr.range[0].max.tcp.port);
    } else if (fam == Family::v6 && tsize >= sizeof(nf_nat_range)) {
      nf_nat_range nr;
      std::memcpy(&nr, tdata, sizeof nr);
      flags = nr.flags, lo = ntohs(nr.min_proto.tcp.port), hi = ntohs(nr.max_proto.tcp.port);
    }
    if (flags != NF_NAT_RANGE_PROTO_SPECIFIED) {
      tunsupported();
    } else {
      r.target =
          RedirectTarget{lo == hi ? std::to_string(lo) : fmt::format("{}-{}", lo, hi), false};
    }
  } else if (tname == "TPROXY" && trev == 1 && tsize >= sizeof(xt_tproxy_target_info_v1)) {
    xt_tproxy_target_info_v1 t;
    std::memcpy(&t, tdata, sizeof t);
    bool any_addr = false;
    for (unsigned i = 0; i < 4; i++) any_addr |= t.laddr.all[i] != 0;
    if (any_addr || t.mark_mask != 0xffffffff) {
      tunsupported();
    } else {
      r.target =
          TproxyTarget{format_mark(t.mark_value, 0xffffffff), std::to_string(ntohs(t.lport))};
    }
  } else if (tname == "MARK" && trev == 2 && tsize >= sizeof(xt_mark_tginfo2)) {
    xt_mark_tginfo2 m;
    std::memcpy(&m, tdata, sizeof m);
    if (m.mask != 0xffffffff)
      tunsupported();
    else
      r.target = MarkTarget{format_mark(m.mark, 0xffffffff)};
  } else if (tname == "CONNMARK" && trev == 2 && tsize >= sizeof(xt_connmark_tginfo2)) {
    xt_connmark_tginfo2 c;
    std::memcpy(&c, tdata, sizeof c);
    if ((c.mode != XT_CONNMARK_SAVE && c.mode != XT_CONNMARK_RESTORE) || c.ctmask != 0xffffffff ||
        c.nfmask != 0xffffffff || c.shift_bits)
      tunsupported();
    else
      r.target = ConnmarkTarget{c.mode == XT_CONNMARK_RESTORE};
  } else if (tname == "CT" && trev == 2 && tsize >= offsetof(xt_ct_target_info_v1, ct)) {
    xt_ct_target_info_v1 c;
    std::memcpy(&c, tdata, offsetof(xt_ct_target_info_v1, ct));
    if (c.flags || c.ct_events || c.exp_events || c.helper[0] || c.timeout[0])
      tunsupported();
    else
      r.target = CtZoneTarget{c.zone};
  } else {
    tunsupported();
  }
  return d;
}

template <typename F>
EntryBytes normalize_impl(const void* raw, const char* label) {
  using Entry = typename F::Entry;
  Entry hdr;
  std::memcpy(&hdr, raw, sizeof hdr);
  EntryBytes out(static_cast<const unsigned char*>(raw),
                 static_cast<const unsigned char*>(raw) + hdr.next_offset);
  auto* e = reinterpret_cast<Entry*>(out.data());
  e->comefrom = 0;
  // Zero what follows each name's NUL: the kernel leaves heap garbage there (guide §9).
  auto clean_name = [](char* name, size_t len) {
    size_t n = strnlen(name, len);
    std::memset(name + n, 0, len - n);
  };
  for (size_t off = sizeof(Entry); off + sizeof(xt_entry_match) <= hdr.target_offset;) {
    auto* m = reinterpret_cast<xt_entry_match*>(out.data() + off);
    if (m->u.user.match_size < sizeof(xt_entry_match)) break;
    clean_name(m->u.user.name, sizeof m->u.user.name);
    off += m->u.user.match_size;
  }
  if (hdr.target_offset + sizeof(xt_entry_target) <= hdr.next_offset) {
    auto* t = reinterpret_cast<xt_entry_target*>(out.data() + hdr.target_offset);
    clean_name(t->u.user.name, sizeof t->u.user.name);
    if (t->u.user.name[0] == 0 && label && *label &&
        size_t(hdr.next_offset - hdr.target_offset) >= sizeof(xt_standard_target)) {
      // Standard target: name it by its label; the verdict (or jump offset) is libiptc's job.
      std::strncpy(t->u.user.name, label, sizeof t->u.user.name - 1);
      std::memset(out.data() + hdr.target_offset + sizeof(xt_entry_target), 0, sizeof(int));
    }
  }
  return out;
}

template <typename F>
std::vector<ExtensionRef> extensions_impl(const EntryBytes& bytes) {
  using Entry = typename F::Entry;
  std::vector<ExtensionRef> out;
  if (bytes.size() < sizeof(Entry)) return out;
  Entry hdr;
  std::memcpy(&hdr, bytes.data(), sizeof hdr);
  for (size_t off = sizeof(Entry); off + sizeof(xt_entry_match) <= hdr.target_offset;) {
    xt_entry_match m;
    std::memcpy(&m, bytes.data() + off, sizeof m);
    if (m.u.user.match_size < sizeof m) break;
    out.push_back({false, cstr(m.u.user.name, sizeof m.u.user.name), m.u.user.revision});
    off += m.u.user.match_size;
  }
  if (hdr.target_offset + sizeof(xt_entry_target) <= bytes.size()) {
    xt_entry_target t;
    std::memcpy(&t, bytes.data() + hdr.target_offset, sizeof t);
    std::string name = cstr(t.u.user.name, sizeof t.u.user.name);
    if (!name.empty() && t.u.user.target_size != XT_ALIGN(sizeof(xt_standard_target)))
      out.push_back({true, name, t.u.user.revision});
    else if (!name.empty() && (name == "MARK"))  // MARK rev 2 has a standard target's size
      out.push_back({true, name, t.u.user.revision});
  }
  return out;
}

}  // namespace

bool parse_mark(const std::string& text, uint32_t& value, uint32_t& mask) {
  mask = 0xffffffff;
  auto slash = text.find('/');
  if (slash == std::string::npos) return parse_number(text, value);
  return parse_number(std::string_view(text).substr(0, slash), value) &&
         parse_number(std::string_view(text).substr(slash + 1), mask);
}

std::string format_mark(uint32_t value, uint32_t mask) {
  if (mask == 0xffffffff) return fmt::format("{:#x}", value);
  return fmt::format("{:#x}/{:#x}", value, mask);
}

Status encode_rule(Family family, const Rule& rule, EntryBytes& out) {
  return family == Family::v4 ? encode_impl<V4>(rule, out) : encode_impl<V6>(rule, out);
}

DecodedRule decode_entry(Family family, const void* entry, const char* target_label) {
  return family == Family::v4 ? decode_impl<V4>(entry, target_label)
                              : decode_impl<V6>(entry, target_label);
}

EntryBytes normalize_entry(Family family, const void* entry, const char* target_label) {
  return family == Family::v4 ? normalize_impl<V4>(entry, target_label)
                              : normalize_impl<V6>(entry, target_label);
}

std::string entry_key(Family family, const EntryBytes& normalized) {
  std::string k(normalized.begin(), normalized.end());
  size_t off =
      family == Family::v4 ? offsetof(ipt_entry, counters) : offsetof(ip6t_entry, counters);
  if (k.size() >= off + sizeof(xt_counters)) std::memset(k.data() + off, 0, sizeof(xt_counters));
  return k;
}

std::vector<ExtensionRef> entry_extensions(Family family, const EntryBytes& entry) {
  return family == Family::v4 ? extensions_impl<V4>(entry) : extensions_impl<V6>(entry);
}

}  // namespace snare
