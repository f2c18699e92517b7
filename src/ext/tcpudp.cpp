// The tcp and udp matches (see tcpudp.h).
#include "ext/tcpudp.h"

#include <fmt/format.h>
#include <linux/netfilter/xt_tcpudp.h>
#include <netinet/in.h>

#include <cstring>

#include "base/parse.h"
#include "ext/nft_json.h"
#include "ext/nft_nl.h"

namespace snare {
namespace {

// Sets one port option in a tcp or udp payload (xt_tcp / xt_udp share the first fields).
template <typename T>
void set_ports(void* payload, bool fresh, const PortMatch& m, const PortRange& r) {
  T t;
  std::memcpy(&t, payload, sizeof t);
  if (fresh) t.spts[0] = t.dpts[0] = 0, t.spts[1] = t.dpts[1] = 0xffff;
  uint16_t* range = m.source ? t.spts : t.dpts;
  range[0] = r.lo, range[1] = r.hi;
  if (m.invert) t.invflags |= m.source ? XT_TCP_INV_SRCPT : XT_TCP_INV_DSTPT;
  std::memcpy(payload, &t, sizeof t);
}
static_assert(XT_TCP_INV_SRCPT == XT_UDP_INV_SRCPT && XT_TCP_INV_DSTPT == XT_UDP_INV_DSTPT);

std::string range_text(uint16_t lo, uint16_t hi) {
  return lo == hi ? std::to_string(lo) : fmt::format("{}:{}", lo, hi);
}

}  // namespace

std::string port_text(const std::string& port) {
  auto r = parse_port_range(port);
  return r.ok() ? range_text(r.value.lo, r.value.hi) : port;
}

void Ext<PortMatch>::restore(const PortMatch& m, std::string& out) {
  fmt::format_to(std::back_inserter(out), "{}{} {}", m.invert ? "! " : "",
                 m.source ? "--sport" : "--dport", m.port);
}

void Ext<PortMatch>::save(const PortMatch& m, SaveContext& ctx, std::string& out) {
  // One `-m tcp` holds every port option of the rule (the decoder emits --sport first).
  if (ctx.open_l4 != m.proto) fmt::format_to(std::back_inserter(out), "-m {} ", m.proto);
  ctx.open_l4 = m.proto == "tcp" ? "tcp" : "udp";
  fmt::format_to(std::back_inserter(out), "{}{} {}", m.invert ? "! " : "",
                 m.source ? "--sport" : "--dport", port_text(m.port));
}

Status Ext<PortMatch>::encode(const PortMatch& m, EntryWriter& w) {
  const uint16_t want = m.proto == "tcp" ? IPPROTO_TCP : m.proto == "udp" ? IPPROTO_UDP : 0;
  if (want == 0 || w.proto() != want)
    return Status::Fail(fmt::format("--{} without -p {}", m.source ? "sport" : "dport", m.proto));
  auto r = parse_port_range(m.port);
  if (!r.ok()) return Status::Fail(fmt::format("bad port '{}'", m.port));
  // Every port option of a rule lives in one tcp/udp match, made by the first.
  void* payload = w.find_match(m.proto);
  const bool fresh = payload == nullptr;
  const bool tcp = want == IPPROTO_TCP;
  if (fresh) payload = w.add_match(m.proto.c_str(), 0, tcp ? sizeof(xt_tcp) : sizeof(xt_udp));
  if (tcp)
    set_ports<xt_tcp>(payload, fresh, m, r.value);
  else
    set_ports<xt_udp>(payload, fresh, m, r.value);
  return Status::Ok();
}

bool Ext<PortMatch>::decode(Family, const XtView& xt, DecodedRule& d) {
  const bool tcp = xt.name == "tcp";
  if (xt.size < (tcp ? sizeof(xt_tcp) - 2 : sizeof(xt_udp))) return false;
  uint16_t spts[2], dpts[2];
  uint8_t inv = 0;
  bool extra = false;
  if (tcp) {
    xt_tcp t{};
    std::memcpy(&t, xt.data, std::min(xt.size, sizeof t));
    std::memcpy(spts, t.spts, 4), std::memcpy(dpts, t.dpts, 4), inv = t.invflags;
    extra = t.option || t.flg_mask || (inv & ~(XT_TCP_INV_SRCPT | XT_TCP_INV_DSTPT));
  } else {
    xt_udp u{};
    std::memcpy(&u, xt.data, sizeof u);
    std::memcpy(spts, u.spts, 4), std::memcpy(dpts, u.dpts, 4), inv = u.invflags;
    extra = inv & ~(XT_UDP_INV_SRCPT | XT_UDP_INV_DSTPT);
  }
  bool any = false;
  if (spts[0] != 0 || spts[1] != 0xffff || (inv & XT_TCP_INV_SRCPT)) {
    d.rule.matches.push_back(
        PortMatch{xt.name, true, (inv & XT_TCP_INV_SRCPT) != 0, range_text(spts[0], spts[1])});
    any = true;
  }
  if (dpts[0] != 0 || dpts[1] != 0xffff || (inv & XT_TCP_INV_DSTPT)) {
    d.rule.matches.push_back(
        PortMatch{xt.name, false, (inv & XT_TCP_INV_DSTPT) != 0, range_text(dpts[0], dpts[1])});
    any = true;
  }
  // A bare `-m tcp` is an L4Match; tcp flags or options have no spelling in the model.
  if (!any && !extra) d.rule.matches.push_back(L4Match{std::string(xt.name)});
  return !extra;
}

void Ext<L4Match>::restore(const L4Match& m, std::string& out) {
  out += "-m ";
  out += m.proto;
}

void Ext<L4Match>::save(const L4Match& m, SaveContext& ctx, std::string& out) {
  restore(m, out);
  // A port option right after it is part of this match: `-m udp --dport 53`.
  ctx.open_l4 = m.proto == "tcp" ? "tcp" : "udp";
}

Status Ext<L4Match>::encode(const L4Match& m, EntryWriter& w) {
  const uint16_t want = m.proto == "tcp" ? IPPROTO_TCP : m.proto == "udp" ? IPPROTO_UDP : 0;
  if (want == 0 || w.proto() != want)
    return Status::Fail(fmt::format("-m {} without -p {}", m.proto, m.proto));
  if (w.find_match(m.proto)) return Status::Ok();  // a port option made it already
  // Every port, as iptables leaves a tcp/udp match no option narrowed.
  void* payload =
      w.add_match(m.proto.c_str(), 0, want == IPPROTO_TCP ? sizeof(xt_tcp) : sizeof(xt_udp));
  if (want == IPPROTO_TCP) {
    xt_tcp t{};
    t.spts[1] = t.dpts[1] = 0xffff;
    std::memcpy(payload, &t, sizeof t);
  } else {
    xt_udp u{};
    u.spts[1] = u.dpts[1] = 0xffff;
    std::memcpy(payload, &u, sizeof u);
  }
  return Status::Ok();
}

// nftables: `meta l4proto tcp` (what a bare tcp match tests; istio's nftables rules never write
// one, they have `meta l4proto` already).
void Ext<L4Match>::nft(const L4Match& m, const NftContext&, std::string& out) {
  out += "meta l4proto ";
  out += m.proto;
}

void Ext<L4Match>::nft_expr(const L4Match& m, const NftContext&, Json& out) {
  out.push_back(nft::match(false, nft::meta("l4proto"), m.proto));
}

// nftables: `tcp dport 15008`, `udp sport != 53`, ranges as `1000-2000`.
void Ext<PortMatch>::nft(const PortMatch& m, const NftContext&, std::string& out) {
  fmt::format_to(std::back_inserter(out), "{} {}{} {}", m.proto, m.source ? "sport" : "dport",
                 m.invert ? " !=" : "", nft::port_text(m.port));
}

void Ext<PortMatch>::nft_expr(const PortMatch& m, const NftContext&, Json& out) {
  out.push_back(
      nft::match(m.invert, nft::payload(m.proto, m.source ? "sport" : "dport"), nft::port(m.port)));
}

// The tcp/udp match sees only its protocol's packets (the rule's -p says which).
MatchResult Ext<PortMatch>::eval(const PortMatch& m, const EvalContext& ctx) {
  const Packet& pk = ctx.packet;
  if (pk.proto != m.proto) return MatchResult::no(fmt::format("-m {}: {}", m.proto, pk.proto));
  auto r = parse_port_range(m.port);
  if (!r.ok()) return MatchResult::unknown(fmt::format("bad port '{}'", m.port));
  const uint16_t port = m.source ? pk.sport : pk.dport;
  const bool in = port >= r.value.lo && port <= r.value.hi;
  if (in != m.invert) return MatchResult::yes();
  return MatchResult::no(fmt::format("{}--{} {}: {}", m.invert ? "! " : "",
                                     m.source ? "sport" : "dport", m.port, port));
}

MatchResult Ext<L4Match>::eval(const L4Match& m, const EvalContext& ctx) {
  if (ctx.packet.proto == m.proto) return MatchResult::yes();
  return MatchResult::no(fmt::format("-m {}: {}", m.proto, ctx.packet.proto));
}

// `-m tcp [!] --sport P [!] --dport P` (ranges a:b); no port option: a bare `-m tcp`.
bool Ext<PortMatch>::from_save(Family, std::string_view name, std::vector<SaveOpt>& opts,
                               DecodedRule& d) {
  bool ok = true, any = false;
  for (const char* opt : {"--sport", "--dport"}) {
    while (SaveOpt* o = take_opt(opts, opt)) {
      ok = ok && parse_port_range(o->values[0]).ok();
      d.rule.matches.push_back(
          PortMatch{std::string(name), opt[2] == 's', o->invert, std::string(o->values[0])});
      any = true;
    }
  }
  if (!any && opts.empty()) d.rule.matches.push_back(L4Match{std::string(name)});
  return ok;
}

// nftables read back: `tcp dport 15008`, `udp sport != 53`, `tcp dport 1000-2000`. nft lists
// no `meta l4proto tcp` before it (the port's header implies it); the match checks it itself.
size_t Ext<PortMatch>::from_nft(Family, NftStmts s, DecodedRule& d) {
  nft::MatchParts m;
  if (!nft::read_match(s[0], m) || (m.op != "==" && m.op != "!=")) return 0;
  for (const char* field : {"sport", "dport"}) {
    const std::string proto = nft::payload_protocol(*m.left, field);
    if (proto != "tcp" && proto != "udp") continue;
    const std::optional<std::string> port = nft::port_of(*m.right);
    if (!port) return 0;
    d.rule.matches.push_back(PortMatch{proto, field[0] == 's', m.op == "!=", *port});
    return 1;
  }
  return 0;
}

// Its nftables statement, `meta l4proto tcp`, is the protocol match's: ProtoMatch reads it.
size_t Ext<L4Match>::from_nft(Family, NftStmts, DecodedRule&) { return 0; }

void Ext<L4Match>::nft_nl(const L4Match& m, const NftContext& ctx, std::vector<NlExpr>& out) {
  nl::l4proto_match(ctx, m.proto, out);
}
// netlink: the port's two bytes of the transport header after nft's `meta l4proto` dependency;
// a range is `cmp gte` and `cmp lte` (with != nft sends a `range` expression, which the netlink
// form does not hold: istio's rules have no port range).
void Ext<PortMatch>::nft_nl(const PortMatch& m, const NftContext& ctx, std::vector<NlExpr>& out) {
  nl::need_l4proto(ctx, m.proto, out);
  out.push_back(nl::payload(nl::kBaseTransport, m.source ? 0 : 2, 2));
  const PortRange r = parse_port_range(m.port).value;
  if (r.lo == r.hi) return out.push_back(nl::cmp(m.invert, nl::be16(r.lo)));
  out.push_back(NlCmp{nl::kCmpGte, nl::kReg1, nl::be16(r.lo)});
  out.push_back(NlCmp{nl::kCmpLte, nl::kReg1, nl::be16(r.hi)});
}

}  // namespace snare
