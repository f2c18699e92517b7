// The multiport match (see multiport.h).
#include "ext/multiport.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <linux/netfilter/xt_multiport.h>
#include <netinet/in.h>

#include <cstring>

#include "base/parse.h"
#include "ext/nft_json.h"
#include "ext/nft_nl.h"
#include "ext/tcpudp.h"

namespace snare {

void Ext<MultiportMatch>::restore(const MultiportMatch& m, std::string& out) {
  fmt::format_to(std::back_inserter(out), "-m multiport {}--dports {}", m.invert ? "! " : "",
                 fmt::join(m.ports, ","));
}

void Ext<MultiportMatch>::save(const MultiportMatch& m, SaveContext&, std::string& out) {
  std::vector<std::string> ports;
  ports.reserve(m.ports.size());
  for (const std::string& p : m.ports) ports.push_back(port_text(p));
  fmt::format_to(std::back_inserter(out), "-m multiport {}--dports {}", m.invert ? "! " : "",
                 fmt::join(ports, ","));
}

Status Ext<MultiportMatch>::encode(const MultiportMatch& m, EntryWriter& w) {
  if (w.proto() != IPPROTO_TCP && w.proto() != IPPROTO_UDP)
    return Status::Fail("-m multiport without -p tcp|udp");
  xt_multiport_v1 info{};
  info.flags = XT_MULTIPORT_DESTINATION;
  info.invert = m.invert ? 1 : 0;
  unsigned n = 0;
  for (const std::string& p : m.ports) {
    auto r = parse_port_range(p);
    if (!r.ok()) return Status::Fail(fmt::format("bad port '{}'", p));
    const unsigned need = r.value.lo == r.value.hi ? 1 : 2;
    if (n + need > XT_MULTI_PORTS) return Status::Fail("more than 15 ports in one multiport match");
    info.ports[n] = r.value.lo;
    if (need == 2) {
      info.pflags[n] = 1;
      info.ports[++n] = r.value.hi;
    }
    ++n;
  }
  info.count = static_cast<uint8_t>(n);
  std::memcpy(w.add_match("multiport", 1, sizeof info), &info, sizeof info);
  return Status::Ok();
}

bool Ext<MultiportMatch>::decode(Family, const XtView& xt, DecodedRule& d) {
  if (xt.size < sizeof(xt_multiport_v1)) return false;
  xt_multiport_v1 mp;
  std::memcpy(&mp, xt.data, sizeof mp);
  // The protocol is the header's: the last match decoded before this one.
  std::string proto = "tcp";
  for (const Match& m : d.rule.matches)
    if (auto* p = std::get_if<ProtoMatch>(&m)) proto = p->name;
  MultiportMatch out{proto, mp.invert != 0, {}};
  for (unsigned i = 0; i < mp.count && i < XT_MULTI_PORTS; i++) {
    if (mp.pflags[i] && i + 1 < mp.count) {
      out.ports.push_back(fmt::format("{}:{}", mp.ports[i], mp.ports[i + 1]));
      i++;
    } else {
      out.ports.push_back(std::to_string(mp.ports[i]));
    }
  }
  d.rule.matches.push_back(std::move(out));
  return mp.flags == XT_MULTIPORT_DESTINATION && mp.count <= XT_MULTI_PORTS;
}

// nftables: `tcp dport != { 53, 15008 }`, an anonymous set.
void Ext<MultiportMatch>::nft(const MultiportMatch& m, const NftContext&, std::string& out) {
  std::vector<std::string> ports;
  for (const std::string& p : m.ports) ports.push_back(nft::port_text(p));
  fmt::format_to(std::back_inserter(out), "{} dport{} {{ {} }}", m.proto, m.invert ? " !=" : "",
                 fmt::join(ports, ", "));
}

void Ext<MultiportMatch>::nft_expr(const MultiportMatch& m, const NftContext&, Json& out) {
  Json set = Json::array();
  for (const std::string& p : m.ports) set.push_back(nft::port(p));
  out.push_back(nft::match(m.invert, nft::payload(m.proto, "dport"), {{"set", std::move(set)}}));
}

MatchResult Ext<MultiportMatch>::eval(const MultiportMatch& m, const EvalContext& ctx) {
  if (ctx.packet.proto != m.proto)
    return MatchResult::no(fmt::format("-m multiport ({}): {}", m.proto, ctx.packet.proto));
  bool in = false;
  for (const std::string& p : m.ports) {
    auto r = parse_port_range(p);
    if (!r.ok()) return MatchResult::unknown(fmt::format("bad port '{}'", p));
    in = in || (ctx.packet.dport >= r.value.lo && ctx.packet.dport <= r.value.hi);
  }
  if (in != m.invert) return MatchResult::yes();
  return MatchResult::no(fmt::format("{}--dports {}: {}", m.invert ? "! " : "",
                                     fmt::join(m.ports, ","), ctx.packet.dport));
}

bool Ext<MultiportMatch>::from_save(Family, std::string_view, std::vector<SaveOpt>& opts,
                                    DecodedRule& d) {
  SaveOpt* o = take_opt(opts, "--dports");
  if (!o) return true;
  std::string proto = "tcp";  // the header's protocol, read before the matches
  for (const Match& m : d.rule.matches)
    if (auto* p = std::get_if<ProtoMatch>(&m)) proto = p->name;
  MultiportMatch out{proto, o->invert, {}};
  bool ok = true;
  for (const std::string& p : split_all(o->values[0], ',')) {
    ok = ok && parse_port_range(p).ok();
    out.ports.push_back(p);
  }
  d.rule.matches.push_back(std::move(out));
  return ok;
}

// nftables read back: `tcp dport != { 15008, 15020 }` (elements ports or ranges).
size_t Ext<MultiportMatch>::from_nft(Family, NftStmts s, DecodedRule& d) {
  nft::MatchParts m;
  if (!nft::read_match(s[0], m) || (m.op != "==" && m.op != "!=")) return 0;
  const std::string proto = nft::payload_protocol(*m.left, "dport");
  const Json* set = nft::statement(*m.right, "set");
  if ((proto != "tcp" && proto != "udp") || !set || !set->is_array() || set->empty() ||
      set->size() > 1024)
    return 0;
  MultiportMatch out{proto, m.op == "!=", {}};
  for (const Json& e : *set) {
    std::optional<std::string> p = nft::port_of(e);
    if (!p) return 0;
    out.ports.push_back(std::move(*p));
  }
  d.rule.matches.push_back(std::move(out));
  return 1;
}

// netlink: the destination port looked up in an anonymous set of the ports.
void Ext<MultiportMatch>::nft_nl(const MultiportMatch& m, const NftContext& ctx,
                                 std::vector<NlExpr>& out) {
  nl::need_l4proto(ctx, m.proto, out);
  out.push_back(nl::payload(nl::kBaseTransport, 2, 2));
  out.push_back(nl::port_lookup(m.proto, m.invert, m.ports));
}

}  // namespace snare
