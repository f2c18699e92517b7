// The entry header's matches (see header.h).
#include "ext/header.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>

#include "base/parse.h"
#include "ext/nft_json.h"
#include "ext/nft_nl.h"

namespace snare {
namespace {

const char* bang(bool invert) { return invert ? "! " : ""; }

}  // namespace

std::string canonical_cidr(const std::string& cidr, Family family) {
  auto p = parse_prefix(
      cidr.find('/') == std::string::npos ? cidr + (family == Family::v4 ? "/32" : "/128") : cidr);
  if (!p.ok() || p.value.addr.v6 != (family == Family::v6)) return cidr;
  IpAddr a = p.value.addr;
  for (int i = 0; i < 16; ++i) {
    const int keep = p.value.len - i * 8;
    if (keep < 8) a.bytes[i] &= keep <= 0 ? 0 : static_cast<unsigned char>(0xff << (8 - keep));
  }
  // Why not fmt: a trace renders a rule's text for each of thousands of rules (bench/trace.sh),
  // and the format string's parse was a good part of it; the text is the same.
  return a.text() + '/' + std::to_string(p.value.len);
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

void Ext<AddrMatch>::restore(const AddrMatch& m, std::string& out) {
  fmt::format_to(std::back_inserter(out), "{}{} {}", bang(m.invert), m.source ? "-s" : "-d",
                 m.cidr);
}

void Ext<AddrMatch>::save(const AddrMatch& m, SaveContext& ctx, std::string& out) {
  out += bang(m.invert);
  out += m.source ? "-s " : "-d ";
  out += canonical_cidr(m.cidr, ctx.family);
}

Status Ext<AddrMatch>::encode(const AddrMatch& m, EntryWriter& w) {
  // A bare address (istio's ambient probe rules: `-s 169.254.7.127`) is the full-length prefix,
  // as iptables takes it.
  const bool bare = m.cidr.find('/') == std::string::npos;
  auto p = parse_prefix(bare ? m.cidr + (w.family() == Family::v4 ? "/32" : "/128") : m.cidr);
  if (!p.ok() || p.value.addr.v6 != (w.family() == Family::v6))
    return Status::Fail(fmt::format("bad {} address '{}'", family_name(w.family()), m.cidr));
  unsigned char mask[16] = {};
  for (int i = 0; i < 16; ++i) {
    const int bits = p.value.len - i * 8;
    mask[i] = bits >= 8 ? 0xff : bits <= 0 ? 0 : static_cast<unsigned char>(0xff << (8 - bits));
  }
  w.address(m.source, p.value.addr.bytes.data(), mask, m.invert);
  return Status::Ok();
}

void Ext<IfaceMatch>::restore(const IfaceMatch& m, std::string& out) {
  fmt::format_to(std::back_inserter(out), "{}{} {}", bang(m.invert), m.out ? "-o" : "-i", m.name);
}

void Ext<IfaceMatch>::save(const IfaceMatch& m, SaveContext&, std::string& out) { restore(m, out); }

Status Ext<IfaceMatch>::encode(const IfaceMatch& m, EntryWriter& w) {
  if (!w.iface(m.out, m.name, m.invert))
    return Status::Fail(fmt::format("bad interface name '{}'", m.name));
  return Status::Ok();
}

void Ext<ProtoMatch>::restore(const ProtoMatch& m, std::string& out) {
  out += "-p ";
  out += m.name;
}

void Ext<ProtoMatch>::save(const ProtoMatch& m, SaveContext&, std::string& out) { restore(m, out); }

Status Ext<ProtoMatch>::encode(const ProtoMatch& m, EntryWriter& w) {
  if (m.name == "tcp") {
    w.proto(IPPROTO_TCP);
  } else if (m.name == "udp") {
    w.proto(IPPROTO_UDP);
  } else if (auto n = parse_u32(m.name); n.ok() && n.value > 0 && n.value < 256) {
    w.proto(static_cast<uint16_t>(n.value));
  } else {
    return Status::Fail(fmt::format("unknown protocol '{}'", m.name));
  }
  return Status::Ok();
}

// Each header match appends what the header holds of it: -s then -d, -i then -o, -p.
void Ext<AddrMatch>::from_header(Family f, const EntryHeader& h, DecodedRule& d) {
  auto any = [&](const unsigned char* mask) {
    for (int i = 0; i < (f == Family::v4 ? 4 : 16); ++i)
      if (mask[i]) return true;
    return false;
  };
  if (any(h.smsk) || h.inv_src)
    d.rule.matches.push_back(AddrMatch{true, h.inv_src, cidr_text(f, h.src, h.smsk)});
  if (any(h.dmsk) || h.inv_dst)
    d.rule.matches.push_back(AddrMatch{false, h.inv_dst, cidr_text(f, h.dst, h.dmsk)});
}

void Ext<IfaceMatch>::from_header(Family, const EntryHeader& h, DecodedRule& d) {
  if (!h.iniface.empty() || h.inv_in)
    d.rule.matches.push_back(IfaceMatch{false, h.inv_in, h.iniface});
  if (!h.outiface.empty() || h.inv_out)
    d.rule.matches.push_back(IfaceMatch{true, h.inv_out, h.outiface});
}

void Ext<ProtoMatch>::from_header(Family, const EntryHeader& h, DecodedRule& d) {
  if (h.proto) d.rule.matches.push_back(ProtoMatch{proto_name(h.proto)});
}

// nftables: `ip saddr 127.0.0.6/32`, `ip6 daddr != ::1/128`; the family follows the address.
void Ext<AddrMatch>::nft(const AddrMatch& m, const NftContext&, std::string& out) {
  const bool v6 = m.cidr.find(':') != std::string::npos;
  fmt::format_to(std::back_inserter(out), "{} {}{} {}", v6 ? "ip6" : "ip",
                 m.source ? "saddr" : "daddr", m.invert ? " !=" : "", m.cidr);
}

void Ext<AddrMatch>::nft_expr(const AddrMatch& m, const NftContext&, Json& out) {
  const bool v6 = m.cidr.find(':') != std::string::npos;
  const Family f = v6 ? Family::v6 : Family::v4;
  // nft lists a full-length prefix as the bare address, others as {"prefix": ...}, masked.
  const std::string c = canonical_cidr(m.cidr, f);
  const size_t slash = c.find('/');
  const std::string addr = c.substr(0, slash);
  const int len = slash == std::string::npos ? (v6 ? 128 : 32) : std::stoi(c.substr(slash + 1));
  Json right =
      len == (v6 ? 128 : 32) ? Json(addr) : Json{{"prefix", {{"addr", addr}, {"len", len}}}};
  out.push_back(nft::match(m.invert, nft::payload(v6 ? "ip6" : "ip", m.source ? "saddr" : "daddr"),
                           std::move(right)));
}

void Ext<IfaceMatch>::nft(const IfaceMatch& m, const NftContext&, std::string& out) {
  fmt::format_to(std::back_inserter(out), "{}{} {}", m.out ? "oifname" : "iifname",
                 m.invert ? " !=" : "", nft::iface_text(m.name));
}

void Ext<IfaceMatch>::nft_expr(const IfaceMatch& m, const NftContext&, Json& out) {
  out.push_back(
      nft::match(m.invert, nft::meta(m.out ? "oifname" : "iifname"), nft::iface_value(m.name)));
}

void Ext<ProtoMatch>::nft(const ProtoMatch& m, const NftContext&, std::string& out) {
  out += "meta l4proto ";
  out += m.name;
}

void Ext<ProtoMatch>::nft_expr(const ProtoMatch& m, const NftContext&, Json& out) {
  out.push_back(nft::match(false, nft::meta("l4proto"), m.name));
}

// A packet is in `-s`/`-d`'s prefix or not; a bare address is its full-length prefix.
MatchResult Ext<AddrMatch>::eval(const AddrMatch& m, const EvalContext& ctx) {
  const IpAddr& a = m.source ? ctx.packet.src : ctx.packet.dst;
  const bool bare = m.cidr.find('/') == std::string::npos;
  const bool v6 = m.cidr.find(':') != std::string::npos;
  auto p = parse_prefix(bare ? m.cidr + (v6 ? "/128" : "/32") : m.cidr);
  if (!p.ok()) return MatchResult::unknown(fmt::format("bad address '{}'", m.cidr));
  // Why: in an inet table (nftables) a rule of the other family sees the packet, and `ip daddr
  // != X` (like `ip6 ...`) matches only a packet of its own family, negated or not.
  if (p.value.addr.v6 != a.v6)
    return MatchResult::no(fmt::format("{} {}: the packet is {}", m.source ? "-s" : "-d", m.cidr,
                                       a.v6 ? "IPv6" : "IPv4"));
  const bool in = in_prefix(a, p.value);
  if (in != m.invert) return MatchResult::yes();
  // The failed test, built without fmt for the reason canonical_cidr is.
  std::string why = bang(m.invert);
  why += m.source ? "-s " : "-d ";
  why += m.cidr;
  why += m.source ? ": source " : ": destination ";
  why += a.text();
  return MatchResult::no(std::move(why));
}

// The kernel compares the device's name with the rule's, up to the `+` of a wildcard (`eth+`);
// where the packet has no such device (no input device on OUTPUT), with the empty name.
MatchResult Ext<IfaceMatch>::eval(const IfaceMatch& m, const EvalContext& ctx) {
  const std::string& dev = m.out ? ctx.packet.oif : ctx.packet.iif;
  const bool wild = !m.name.empty() && m.name.back() == '+';
  const std::string_view want(m.name.data(), m.name.size() - (wild ? 1 : 0));
  const bool same = wild ? std::string_view(dev).substr(0, want.size()) == want : dev == want;
  if (same != m.invert) return MatchResult::yes();
  return MatchResult::no(fmt::format("{}{} {}: {}", bang(m.invert), m.out ? "-o" : "-i", m.name,
                                     dev.empty() ? "no such device at this hook" : dev));
}

MatchResult Ext<ProtoMatch>::eval(const ProtoMatch& m, const EvalContext& ctx) {
  const std::string& p = ctx.packet.proto;
  if (m.name == p || (m.name == "6" && p == "tcp") || (m.name == "17" && p == "udp"))
    return MatchResult::yes();
  return MatchResult::no(fmt::format("-p {}: {}", m.name, p));
}

// The header options of save text: `[!] -s ADDR/LEN`, `[!] -d ...`, `[!] -i NAME`, `-p PROTO`.
bool Ext<AddrMatch>::from_save(Family f, std::string_view, std::vector<SaveOpt>& opts,
                               DecodedRule& d) {
  bool ok = true;
  for (const char* opt : {"-s", "-d"}) {
    while (SaveOpt* o = take_opt(opts, opt)) {
      const std::string c(o->values[0]);
      auto p = parse_prefix(
          c.find('/') == std::string::npos ? c + (f == Family::v4 ? "/32" : "/128") : c);
      ok = ok && p.ok() && p.value.addr.v6 == (f == Family::v6);
      d.rule.matches.push_back(AddrMatch{opt[1] == 's', o->invert, c});
    }
  }
  return ok;
}

bool Ext<IfaceMatch>::from_save(Family, std::string_view, std::vector<SaveOpt>& opts,
                                DecodedRule& d) {
  bool ok = true;
  for (const char* opt : {"-i", "-o"}) {
    while (SaveOpt* o = take_opt(opts, opt)) {
      ok = ok && parse_interface(o->values[0]).ok();
      d.rule.matches.push_back(IfaceMatch{opt[1] == 'o', o->invert, std::string(o->values[0])});
    }
  }
  return ok;
}

// `! -p` is not modelled: left unused, the rule is unmodelled.
bool Ext<ProtoMatch>::from_save(Family, std::string_view, std::vector<SaveOpt>& opts,
                                DecodedRule& d) {
  if (SaveOpt* o = take_opt(opts, "-p", 1, false))
    d.rule.matches.push_back(ProtoMatch{std::string(o->values[0])});
  return true;
}

// nftables read back: `ip saddr 10.0.0.0/8`, `ip6 daddr != ::1` (a full-length prefix bare).
size_t Ext<AddrMatch>::from_nft(Family, NftStmts s, DecodedRule& d) {
  nft::MatchParts m;
  if (!nft::read_match(s[0], m) || (m.op != "==" && m.op != "!=")) return 0;
  for (const char* field : {"saddr", "daddr"}) {
    const std::string proto = nft::payload_protocol(*m.left, field);
    if (proto != "ip" && proto != "ip6") continue;
    std::string cidr;
    if (m.right->is_string()) {
      cidr = m.right->get<std::string>();
    } else if (const Json* p = nft::statement(*m.right, "prefix")) {
      const Json *addr = nft::member(*p, "addr"), *len = nft::member(*p, "len");
      if (!addr || !addr->is_string() || !len || !nft::u32(*len)) return 0;
      cidr = addr->get<std::string>() + "/" + std::to_string(*nft::u32(*len));
    }
    // Why v6 from the payload: the address must be of the header's family, as nft demands.
    const bool v6 = proto == "ip6";
    auto parsed =
        parse_prefix(cidr.find('/') == std::string::npos ? cidr + (v6 ? "/128" : "/32") : cidr);
    if (cidr.empty() || cidr[0] == '@' || !parsed.ok() || parsed.value.addr.v6 != v6) return 0;
    d.rule.matches.push_back(AddrMatch{field[0] == 's', m.op == "!=", cidr});
    return 1;
  }
  return 0;
}

// `iifname "eth0"`, `oifname != "lo"`; nft's wildcard `eth*` is iptables' `eth+`, and an escaped
// `\*` a literal star. A name the model would read otherwise (a literal trailing '+', another
// escape) is not taken.
size_t Ext<IfaceMatch>::from_nft(Family, NftStmts s, DecodedRule& d) {
  nft::MatchParts m;
  if (!nft::read_match(s[0], m) || (m.op != "==" && m.op != "!=") || !m.right->is_string())
    return 0;
  const bool out = nft::is_meta(*m.left, "oifname");
  if (!out && !nft::is_meta(*m.left, "iifname")) return 0;
  const std::string& v = m.right->get_ref<const std::string&>();
  std::string name;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\') {
      if (i + 1 >= v.size() || v[i + 1] != '*') return 0;
      name += v[++i];
    } else if (v[i] == '*') {
      if (i + 1 != v.size()) return 0;
      name += '+';
    } else if (v[i] == '+' && i + 1 == v.size()) {
      return 0;
    } else {
      name += v[i];
    }
  }
  if (!parse_interface(name).ok()) return 0;
  d.rule.matches.push_back(IfaceMatch{out, m.op == "!=", name});
  return 1;
}

// `meta l4proto tcp` (a number where the lister had no /etc/protocols).
size_t Ext<ProtoMatch>::from_nft(Family, NftStmts s, DecodedRule& d) {
  nft::MatchParts m;
  if (!nft::read_match(s[0], m) || m.op != "==" || !nft::is_meta(*m.left, "l4proto")) return 0;
  std::string name;
  if (m.right->is_string())
    name = m.right->get<std::string>();
  else if (auto n = nft::u32(*m.right); n && *n > 0 && *n < 256)
    name = proto_name(*n);
  if (name.empty() || name.size() > 32) return 0;
  d.rule.matches.push_back(ProtoMatch{std::move(name)});
  return 1;
}

// netlink: the address's payload after nft's `meta nfproto` dependency (ext/nft_nl.h).
void Ext<AddrMatch>::nft_nl(const AddrMatch& m, const NftContext& ctx, std::vector<NlExpr>& out) {
  nl::addr_match(ctx, m.source, m.invert, m.cidr, out);
}
// netlink: `meta load iifname`, compared with the name's IFNAMSIZ bytes (a wildcard's prefix).
void Ext<IfaceMatch>::nft_nl(const IfaceMatch& m, const NftContext&, std::vector<NlExpr>& out) {
  out.push_back(nl::meta_load(m.out ? nl::kMetaOifname : nl::kMetaIifname));
  out.push_back(nl::cmp(m.invert, nl::iface_bytes(m.name)));
}
void Ext<ProtoMatch>::nft_nl(const ProtoMatch& m, const NftContext& ctx, std::vector<NlExpr>& out) {
  nl::l4proto_match(ctx, m.name, out);
}

}  // namespace snare
