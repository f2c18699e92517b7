// The standard, REDIRECT, TPROXY and CT targets (see targets.h).
#include "ext/targets.h"

// glibc's network headers before the kernel's.
// clang-format off
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/x_tables.h>
#include <linux/netfilter/xt_CT.h>
#include <linux/netfilter/xt_TPROXY.h>
// clang-format on
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "base/parse.h"
#include "ext/mark.h"
#include "ext/nft_json.h"
#include "ext/nft_nl.h"
#include "ext/tcpudp.h"
#include "model/nft_layout.h"

namespace snare {

void Ext<JumpTarget>::restore(const JumpTarget& t, std::string& out) {
  out += "-j ";
  out += t.chain;
}

void Ext<JumpTarget>::save(const JumpTarget& t, SaveContext&, std::string& out) { restore(t, out); }

// A verdict enters no chain, and a builtin chain cannot be jumped to.
const std::string* Ext<JumpTarget>::entered_chain(const JumpTarget& t) {
  return is_verdict(t.chain) || is_builtin_chain(t.chain) ? nullptr : &t.chain;
}

Status Ext<JumpTarget>::encode(const JumpTarget& t, EntryWriter& w) {
  if (t.chain.empty() || t.chain.size() >= XT_EXTENSION_MAXNAMELEN)
    return Status::Fail(fmt::format("bad jump target '{}'", t.chain));
  w.standard_target(t.chain);
  return Status::Ok();
}

bool Ext<JumpTarget>::decode(Family, const XtView& xt, DecodedRule& d) {
  d.rule.target = JumpTarget{xt.label};
  return !xt.label.empty();  // a fall-through entry (no verdict) has no model
}

void Ext<RedirectTarget>::restore(const RedirectTarget& t, std::string& out) {
  fmt::format_to(std::back_inserter(out), "-j REDIRECT {} {}",
                 t.singular ? "--to-port" : "--to-ports", t.port);
}

void Ext<RedirectTarget>::save(const RedirectTarget& t, SaveContext&, std::string& out) {
  std::string p = port_text(t.port);
  std::replace(p.begin(), p.end(), ':', '-');
  out += "-j REDIRECT --to-ports ";
  out += p;
}

Status Ext<RedirectTarget>::encode(const RedirectTarget& t, EntryWriter& w) {
  std::string p = t.port;
  std::replace(p.begin(), p.end(), '-', ':');
  auto r = parse_port_range(p);
  if (!r.ok()) return Status::Fail(fmt::format("bad redirect port '{}'", t.port));
  if (w.family() == Family::v4) {
    nf_nat_ipv4_multi_range_compat mr{};
    mr.rangesize = 1;
    mr.range[0].flags = NF_NAT_RANGE_PROTO_SPECIFIED;
    mr.range[0].min.tcp.port = htons(r.value.lo);
    mr.range[0].max.tcp.port = htons(r.value.hi);
    std::memcpy(w.add_target("REDIRECT", 0, sizeof mr), &mr, sizeof mr);
  } else {
    nf_nat_range nr{};
    nr.flags = NF_NAT_RANGE_PROTO_SPECIFIED;
    nr.min_proto.tcp.port = htons(r.value.lo);
    nr.max_proto.tcp.port = htons(r.value.hi);
    std::memcpy(w.add_target("REDIRECT", 0, sizeof nr), &nr, sizeof nr);
  }
  return Status::Ok();
}

bool Ext<RedirectTarget>::decode(Family f, const XtView& xt, DecodedRule& d) {
  uint32_t flags = 0;
  uint16_t lo = 0, hi = 0;
  if (f == Family::v4 && xt.size >= sizeof(nf_nat_ipv4_multi_range_compat)) {
    nf_nat_ipv4_multi_range_compat mr;
    std::memcpy(&mr, xt.data, sizeof mr);
    flags = mr.range[0].flags, lo = ntohs(mr.range[0].min.tcp.port),
    hi = ntohs(mr.range[0].max.tcp.port);
  } else if (f == Family::v6 && xt.size >= sizeof(nf_nat_range)) {
    nf_nat_range nr;
    std::memcpy(&nr, xt.data, sizeof nr);
    flags = nr.flags, lo = ntohs(nr.min_proto.tcp.port), hi = ntohs(nr.max_proto.tcp.port);
  }
  if (flags != NF_NAT_RANGE_PROTO_SPECIFIED) return false;
  d.rule.target = RedirectTarget{lo == hi ? std::to_string(lo) : fmt::format("{}-{}", lo, hi)};
  return true;
}

void Ext<TproxyTarget>::restore(const TproxyTarget& t, std::string& out) {
  fmt::format_to(std::back_inserter(out), "-j TPROXY --tproxy-mark {}/0xffffffff --on-port {}",
                 t.mark, t.port);
}

void Ext<TproxyTarget>::save(const TproxyTarget& t, SaveContext& ctx, std::string& out) {
  auto m = parse_mark(t.mark);
  fmt::format_to(std::back_inserter(out),
                 "-j TPROXY --on-port {} --on-ip {} --tproxy-mark {:#x}/0xffffffff",
                 port_text(t.port), ctx.family == Family::v4 ? "0.0.0.0" : "::", m.value.value);
}

Status Ext<TproxyTarget>::encode(const TproxyTarget& t, EntryWriter& w) {
  auto mark = parse_mark(t.mark);
  auto port = parse_port(t.port);
  if (!mark.ok()) return Status::Fail(fmt::format("bad tproxy mark '{}'", t.mark));
  if (!port.ok()) return Status::Fail(fmt::format("bad tproxy port '{}'", t.port));
  xt_tproxy_target_info_v1 info{};
  info.mark_value = mark.value.value, info.mark_mask = mark.value.mask;
  info.lport = htons(port.value);
  std::memcpy(w.add_target("TPROXY", 1, sizeof info), &info, sizeof info);
  return Status::Ok();
}

bool Ext<TproxyTarget>::decode(Family, const XtView& xt, DecodedRule& d) {
  if (xt.size < sizeof(xt_tproxy_target_info_v1)) return false;
  xt_tproxy_target_info_v1 t;
  std::memcpy(&t, xt.data, sizeof t);
  const bool any_addr = std::any_of(std::begin(t.laddr.all), std::end(t.laddr.all),
                                    [](uint32_t w) { return w != 0; });
  if (any_addr || t.mark_mask != 0xffffffff) return false;
  d.rule.target =
      TproxyTarget{format_mark(t.mark_value, 0xffffffff), std::to_string(ntohs(t.lport))};
  return true;
}

void Ext<CtZoneTarget>::restore(const CtZoneTarget& t, std::string& out) {
  fmt::format_to(std::back_inserter(out), "-j CT --zone {}", t.zone);
}

void Ext<CtZoneTarget>::save(const CtZoneTarget& t, SaveContext&, std::string& out) {
  restore(t, out);
}

Status Ext<CtZoneTarget>::encode(const CtZoneTarget& t, EntryWriter& w) {
  if (t.zone < 0 || t.zone > 0xffff)
    return Status::Fail(fmt::format("bad conntrack zone {}", t.zone));
  xt_ct_target_info_v1 info{};
  info.zone = static_cast<uint16_t>(t.zone);
  std::memcpy(w.add_target("CT", 2, sizeof info), &info, sizeof info);
  return Status::Ok();
}

bool Ext<CtZoneTarget>::decode(Family, const XtView& xt, DecodedRule& d) {
  xt_ct_target_info_v1 c{};
  if (xt.size < offsetof(xt_ct_target_info_v1, ct)) return false;
  std::memcpy(&c, xt.data, offsetof(xt_ct_target_info_v1, ct));
  d.rule.target = CtZoneTarget{c.zone};
  return !(c.flags || c.ct_events || c.exp_events || c.helper[0] || c.timeout[0]);
}

// nftables: `counter jump istio-output`, `counter return` (every istio rule counts, first), but
// `jump istio-output` in istio's ambient rules, whose jumps do not count.
void Ext<JumpTarget>::nft(const JumpTarget& t, const NftContext&, std::string& out) {
  const bool verdict = is_verdict(t.chain);
  if (verdict || t.nft_counter) out += "counter ";
  if (verdict) {
    for (char c : t.chain) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  } else {
    out += "jump ";
    out += nft_chain_name(t.chain);
  }
}

void Ext<JumpTarget>::nft_expr(const JumpTarget& t, const NftContext&, Json& out) {
  if (is_verdict(t.chain) || t.nft_counter) out.push_back(nft::counter());
  if (t.chain == "RETURN")
    out.push_back({{"return", nullptr}});
  else if (t.chain == "ACCEPT")
    out.push_back({{"accept", nullptr}});
  else if (t.chain == "DROP")
    out.push_back({{"drop", nullptr}});
  else
    out.push_back({{"jump", {{"target", nft_chain_name(t.chain)}}}});
}

void Ext<RedirectTarget>::nft(const RedirectTarget& t, const NftContext&, std::string& out) {
  out += "counter redirect to :";
  out += t.port;
}

void Ext<RedirectTarget>::nft_expr(const RedirectTarget& t, const NftContext&, Json& out) {
  out.push_back(nft::counter());
  out.push_back({{"redirect", {{"port", nft::number(t.port)}}}});
}

// nftables: `tproxy ip to :15006 meta mark set 1337 counter accept`: the counter after the mark.
void Ext<TproxyTarget>::nft(const TproxyTarget& t, const NftContext& ctx, std::string& out) {
  fmt::format_to(std::back_inserter(out), "tproxy {} to :{} meta mark set {} counter accept",
                 ctx.scope == Scope::v6 ? "ip6" : "ip", t.port, t.mark);
}

void Ext<TproxyTarget>::nft_expr(const TproxyTarget& t, const NftContext& ctx, Json& out) {
  out.push_back(
      {{"tproxy",
        {{"family", ctx.scope == Scope::v6 ? "ip6" : "ip"}, {"port", nft::number(t.port)}}}});
  out.push_back(nft::mangle(nft::meta("mark"), nft::number(t.mark)));
  out.push_back(nft::counter());
  out.push_back({{"accept", nullptr}});
}

void Ext<CtZoneTarget>::nft(const CtZoneTarget& t, const NftContext&, std::string& out) {
  fmt::format_to(std::back_inserter(out), "counter ct zone set {}", t.zone);
}

void Ext<CtZoneTarget>::nft_expr(const CtZoneTarget& t, const NftContext&, Json& out) {
  out.push_back(nft::counter());
  out.push_back(nft::mangle(nft::ct("zone"), t.zone));
}

TargetResult Ext<JumpTarget>::eval(const JumpTarget& t, EvalContext&) {
  using K = TargetResult::Kind;
  if (t.chain == "ACCEPT") return {K::accept, {}, "ACCEPT"};
  if (t.chain == "DROP") return {K::drop, {}, "DROP"};
  if (t.chain == "RETURN") return {K::ret, {}, "RETURN"};
  return {K::jump, t.chain, {}};
}

namespace {

// Where a target may be: a table at one of its hooks, as the kernel's checkentry demands.
bool at(const EvalContext& ctx, Table table, Hook a, Hook b) {
  return ctx.table == table && (ctx.hook == a || ctx.hook == b);
}

}  // namespace

// REDIRECT maps the connection's destination to a local port: to 127.0.0.1 / ::1 for a packet
// from a local process, to the first address of the input device for one that arrived. The
// connection keeps the original destination (SO_ORIGINAL_DST).
TargetResult Ext<RedirectTarget>::eval(const RedirectTarget& t, EvalContext& ctx) {
  using K = TargetResult::Kind;
  if (!at(ctx, Table::nat, Hook::prerouting, Hook::output))
    return {K::unknown, {}, "REDIRECT outside nat PREROUTING/OUTPUT"};
  std::string p = t.port;
  std::replace(p.begin(), p.end(), '-', ':');
  auto r = parse_port_range(p);
  if (!r.ok()) return {K::unknown, {}, fmt::format("bad redirect port '{}'", t.port)};
  Packet& pk = ctx.packet;
  Capture c{Capture::Kind::redirect, r.value.lo, {}, pk.dst, pk.dport};
  if (ctx.hook == Hook::output) {
    pk.dst = loopback_addr(pk.dst.v6);
    pk.oif = "lo";  // rerouted to the local address
    c.to_addr = pk.dst.text();
  } else {
    c.to_addr = fmt::format("the first address of {}", pk.iif);
  }
  pk.dport = r.value.lo;
  ctx.capture = c;
  return {K::accept, {}, fmt::format("REDIRECT to :{}", r.value.lo)};
}

// TPROXY hands the packet to the local socket on --on-port (the kernel drops it when nothing
// listens there; a trace assumes the proxy does) and marks it, for the fwmark routing rule that
// delivers it locally. The destination is not rewritten: the socket's own address is the
// original destination.
TargetResult Ext<TproxyTarget>::eval(const TproxyTarget& t, EvalContext& ctx) {
  using K = TargetResult::Kind;
  if (!at(ctx, Table::mangle, Hook::prerouting, Hook::prerouting))
    return {K::unknown, {}, "TPROXY outside mangle PREROUTING"};
  auto port = parse_port(t.port);
  auto mark = parse_mark(t.mark);
  if (!port.ok() || !mark.ok())
    return {
        K::unknown, {}, fmt::format("bad TPROXY --on-port {} --tproxy-mark {}", t.port, t.mark)};
  Packet& pk = ctx.packet;
  pk.mark = (pk.mark & ~mark.value.mask) ^ mark.value.value;
  ctx.capture = Capture{Capture::Kind::tproxy, port.value, {}, pk.dst, pk.dport};
  return {K::accept,
          {},
          fmt::format("TPROXY to :{}, mark {:#x} (a listener on :{} assumed)", port.value, pk.mark,
                      port.value)};
}

TargetResult Ext<CtZoneTarget>::eval(const CtZoneTarget& t, EvalContext& ctx) {
  if (ctx.table != Table::raw) return {TargetResult::Kind::unknown, {}, "CT outside raw"};
  ctx.zone = t.zone;
  return {TargetResult::Kind::next, {}, fmt::format("conntrack zone {}", t.zone)};
}

// The standard target: `-j CHAIN` or a verdict, no options.
bool Ext<JumpTarget>::from_save(Family, std::string_view name, std::vector<SaveOpt>&,
                                DecodedRule& d) {
  d.rule.target = JumpTarget{std::string(name)};
  return true;
}

bool Ext<RedirectTarget>::from_save(Family, std::string_view, std::vector<SaveOpt>& opts,
                                    DecodedRule& d) {
  SaveOpt* o = take_opt(opts, "--to-ports", 1, false);
  if (!o) return false;
  d.rule.target = RedirectTarget{std::string(o->values[0])};
  std::string p(o->values[0]);
  std::replace(p.begin(), p.end(), '-', ':');
  return parse_port_range(p).ok();
}

// `--on-port P --on-ip A --tproxy-mark V/M`; an --on-ip other than the any address is not
// modelled (the model's TPROXY takes the packet's own destination).
bool Ext<TproxyTarget>::from_save(Family, std::string_view, std::vector<SaveOpt>& opts,
                                  DecodedRule& d) {
  SaveOpt* port = take_opt(opts, "--on-port", 1, false);
  SaveOpt* mark = take_opt(opts, "--tproxy-mark", 1, false);
  if (SaveOpt* ip = take_opt(opts, "--on-ip", 1, false))
    ip->used = ip->values[0] == "0.0.0.0" || ip->values[0] == "::";
  if (!port || !mark) return false;
  d.rule.target = TproxyTarget{std::string(mark->values[0]), std::string(port->values[0])};
  return parse_port(port->values[0]).ok() && parse_mark(mark->values[0]).ok();
}

bool Ext<CtZoneTarget>::from_save(Family, std::string_view, std::vector<SaveOpt>& opts,
                                  DecodedRule& d) {
  SaveOpt* o = take_opt(opts, "--zone", 1, false);
  if (!o) return false;
  auto n = parse_u32(o->values[0]);
  if (!n.ok() || n.value > 0xffff) return false;
  d.rule.target = CtZoneTarget{static_cast<int>(n.value)};
  return true;
}

// nftables read back: `counter jump istio-output` (ambient's jumps without the counter),
// `counter return`, `accept`, `drop`. The chain keeps nft's name: a walk of a listing looks it
// up as listed. A goto is not modelled.
size_t Ext<JumpTarget>::from_nft(Family, NftStmts s, DecodedRule& d) {
  const size_t c = nft::counter_at(s);
  if (c >= s.size()) return 0;
  for (const auto& [kind, verdict] :
       {std::pair{"return", "RETURN"}, std::pair{"accept", "ACCEPT"}, std::pair{"drop", "DROP"}}) {
    if (const Json* v = nft::statement(s[c], kind); v && v->is_null()) {
      d.rule.target = JumpTarget{verdict, c == 1};
      return c + 1;
    }
  }
  const Json* jump = nft::statement(s[c], "jump");
  const Json* target = jump && jump->size() == 1 ? nft::member(*jump, "target") : nullptr;
  if (!target || !target->is_string() || target->get_ref<const std::string&>().empty() ||
      is_verdict(target->get<std::string>()))
    return 0;
  d.rule.target = JumpTarget{target->get<std::string>(), c == 1};
  return c + 1;
}

// `counter redirect to :15001`.
size_t Ext<RedirectTarget>::from_nft(Family, NftStmts s, DecodedRule& d) {
  const size_t c = nft::counter_at(s);
  const Json* r = c < s.size() ? nft::statement(s[c], "redirect") : nullptr;
  const Json* port = r && r->size() == 1 ? nft::member(*r, "port") : nullptr;
  const uint32_t p = port ? nft::u32(*port).value_or(0) : 0;
  if (p == 0 || p > 0xffff) return 0;
  d.rule.target = RedirectTarget{std::to_string(p)};
  return c + 1;
}

// `tproxy ip to :15006 meta mark set 1337 counter accept`: the four statements are iptables'
// TPROXY (which marks and accepts); the tproxy statement alone is not.
size_t Ext<TproxyTarget>::from_nft(Family, NftStmts s, DecodedRule& d) {
  if (s.size() < 3) return 0;
  const Json* t = nft::statement(s[0], "tproxy");
  const Json* port = t ? nft::member(*t, "port") : nullptr;
  const Json* family = t ? nft::member(*t, "family") : nullptr;
  const uint32_t p = port ? nft::u32(*port).value_or(0) : 0;
  if (p == 0 || p > 0xffff || t->size() != (family ? 2u : 1u)) return 0;
  if (family && (!family->is_string() || (*family != "ip" && *family != "ip6"))) return 0;
  const Json* set = nft::statement(s[1], "mangle");
  const Json *key = set ? nft::member(*set, "key") : nullptr,
             *value = set ? nft::member(*set, "value") : nullptr;
  if (!key || !value || !nft::is_meta(*key, "mark") || !nft::u32(*value)) return 0;
  const size_t c = nft::counter_at(s.subspan(2));
  const Json* accept = 2 + c < s.size() ? nft::statement(s[2 + c], "accept") : nullptr;
  if (!accept || !accept->is_null()) return 0;
  d.rule.target = TproxyTarget{std::to_string(*nft::u32(*value)), std::to_string(p)};
  return 3 + c;
}

// `counter ct zone set 1`.
size_t Ext<CtZoneTarget>::from_nft(Family, NftStmts s, DecodedRule& d) {
  const size_t c = nft::counter_at(s);
  const Json* set = c < s.size() ? nft::statement(s[c], "mangle") : nullptr;
  const Json *key = set ? nft::member(*set, "key") : nullptr,
             *value = set ? nft::member(*set, "value") : nullptr;
  const uint32_t zone = value ? nft::u32(*value).value_or(0x10000) : 0x10000;
  if (!key || !nft::is_ct(*key, "zone") || zone > 0xffff) return 0;
  d.rule.target = CtZoneTarget{static_cast<int>(zone)};
  return c + 1;
}

// netlink: the counter where the text has one, the verdict (a jump names the nft chain).
void Ext<JumpTarget>::nft_nl(const JumpTarget& t, const NftContext&, std::vector<NlExpr>& out) {
  const bool verdict = is_verdict(t.chain);
  if (verdict || t.nft_counter) out.push_back(NlCounter{});
  if (t.chain == "ACCEPT") return out.push_back(NlVerdict{nl::kVerdictAccept, ""});
  if (t.chain == "DROP") return out.push_back(NlVerdict{nl::kVerdictDrop, ""});
  if (t.chain == "RETURN") return out.push_back(NlVerdict{nl::kVerdictReturn, ""});
  out.push_back(NlVerdict{nl::kVerdictJump, nft_chain_name(t.chain)});
}
// netlink: the counter, the port as an immediate, redir with the port given (flags 0x2).
void Ext<RedirectTarget>::nft_nl(const RedirectTarget& t, const NftContext&,
                                 std::vector<NlExpr>& out) {
  out.push_back(NlCounter{});
  out.push_back(nl::immediate(nl::be16(parse_port(t.port).value)));
  out.push_back(NlRedir{nl::kReg1, 0, nl::kRangeProtoSpecified});
}
// netlink: `tproxy ip to :P meta mark set M counter accept`, statement by statement.
void Ext<TproxyTarget>::nft_nl(const TproxyTarget& t, const NftContext& ctx,
                               std::vector<NlExpr>& out) {
  out.push_back(nl::immediate(nl::be16(parse_port(t.port).value)));
  out.push_back(
      NlTproxy{ctx.scope == Scope::v6 ? nl::kNfprotoIpv6 : nl::kNfprotoIpv4, 0, nl::kReg1});
  out.push_back(nl::immediate(nl::host32(parse_mark(t.mark).value.value)));
  out.push_back(NlMetaSet{nl::kMetaMark, nl::kReg1});
  out.push_back(NlCounter{});
  out.push_back(NlVerdict{nl::kVerdictAccept, ""});
}
// netlink: the counter, the zone as an immediate (16 bits, host order), `ct set zone`.
void Ext<CtZoneTarget>::nft_nl(const CtZoneTarget& t, const NftContext&, std::vector<NlExpr>& out) {
  out.push_back(NlCounter{});
  out.push_back(nl::immediate(nl::host16(static_cast<uint16_t>(t.zone))));
  out.push_back(NlCtSet{nl::kCtZone, nl::kReg1});
}

}  // namespace snare
