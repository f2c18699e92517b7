// The SNAT target (see snat.h).
#include "ext/snat.h"

// glibc's network headers before the kernel's.
// clang-format off
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/netfilter/nf_nat.h>
// clang-format on
#include <fmt/format.h>

#include <cstring>

#include "base/parse.h"
#include "ext/nft_json.h"
#include "ext/nft_nl.h"

namespace snare {

void Ext<SnatTarget>::restore(const SnatTarget& t, std::string& out) {
  out += "-j SNAT --to-source ";
  out += t.addr;
}

void Ext<SnatTarget>::save(const SnatTarget& t, SaveContext&, std::string& out) {
  auto a = parse_ip(t.addr);
  out += "-j SNAT --to-source ";
  out += a.ok() ? a.value.text() : t.addr;
}

Status Ext<SnatTarget>::encode(const SnatTarget& t, EntryWriter& w) {
  auto a = parse_ip(t.addr);
  if (!a.ok() || a.value.v6 != (w.family() == Family::v6))
    return Status::Fail(fmt::format("bad {} SNAT address '{}'", family_name(w.family()), t.addr));
  if (w.family() == Family::v4) {
    nf_nat_ipv4_multi_range_compat mr{};
    mr.rangesize = 1;
    mr.range[0].flags = NF_NAT_RANGE_MAP_IPS;
    std::memcpy(&mr.range[0].min_ip, a.value.bytes.data(), 4);
    std::memcpy(&mr.range[0].max_ip, a.value.bytes.data(), 4);
    std::memcpy(w.add_target("SNAT", 0, sizeof mr), &mr, sizeof mr);
  } else {
    nf_nat_range r{};
    r.flags = NF_NAT_RANGE_MAP_IPS;
    std::memcpy(&r.min_addr, a.value.bytes.data(), 16);
    std::memcpy(&r.max_addr, a.value.bytes.data(), 16);
    std::memcpy(w.add_target("SNAT", 1, sizeof r), &r, sizeof r);
  }
  return Status::Ok();
}

bool Ext<SnatTarget>::decode(Family f, const XtView& xt, DecodedRule& d) {
  char text[INET6_ADDRSTRLEN] = {};
  if (f == Family::v4 && xt.revision == 0 && xt.size >= sizeof(nf_nat_ipv4_multi_range_compat)) {
    nf_nat_ipv4_multi_range_compat mr;
    std::memcpy(&mr, xt.data, sizeof mr);
    const auto& r = mr.range[0];
    if (mr.rangesize != 1 || r.flags != NF_NAT_RANGE_MAP_IPS || r.min_ip != r.max_ip) return false;
    inet_ntop(AF_INET, &r.min_ip, text, sizeof text);
  } else if (f == Family::v6 && xt.revision == 1 && xt.size >= sizeof(nf_nat_range)) {
    nf_nat_range r;
    std::memcpy(&r, xt.data, sizeof r);
    if (r.flags != NF_NAT_RANGE_MAP_IPS || std::memcmp(&r.min_addr, &r.max_addr, 16) != 0)
      return false;
    inet_ntop(AF_INET6, &r.min_addr, text, sizeof text);
  } else {
    return false;
  }
  d.rule.target = SnatTarget{text};
  return true;
}

// nftables: `counter snat to 169.254.7.127` (the family follows the rule's address match).
void Ext<SnatTarget>::nft(const SnatTarget& t, const NftContext&, std::string& out) {
  out += "counter snat to ";
  out += t.addr;
}

void Ext<SnatTarget>::nft_expr(const SnatTarget& t, const NftContext& ctx, Json& out) {
  out.push_back(nft::counter());
  out.push_back({{"snat", {{"family", ctx.scope == Scope::v6 ? "ip6" : "ip"}, {"addr", t.addr}}}});
}

// SNAT rewrites the connection's source; the kernel takes it in nat POSTROUTING and INPUT.
TargetResult Ext<SnatTarget>::eval(const SnatTarget& t, EvalContext& ctx) {
  using K = TargetResult::Kind;
  if (ctx.table != Table::nat || (ctx.hook != Hook::postrouting && ctx.hook != Hook::input))
    return {K::unknown, {}, "SNAT outside nat POSTROUTING/INPUT"};
  auto a = parse_ip(t.addr);
  if (!a.ok()) return {K::unknown, {}, fmt::format("bad SNAT address '{}'", t.addr)};
  Packet& pk = ctx.packet;
  ctx.capture = Capture{Capture::Kind::snat, std::nullopt, a.value.text(), pk.dst, pk.dport};
  pk.src = a.value;
  return {K::accept, {}, fmt::format("SNAT to {}", a.value.text())};
}

// `--to-source ADDR`: one address (a port or a range is not modelled).
bool Ext<SnatTarget>::from_save(Family f, std::string_view, std::vector<SaveOpt>& opts,
                                DecodedRule& d) {
  SaveOpt* o = take_opt(opts, "--to-source", 1, false);
  if (!o) return false;
  auto a = parse_ip(o->values[0]);
  if (!a.ok() || a.value.v6 != (f == Family::v6)) return o->used = false, false;
  d.rule.target = SnatTarget{std::string(o->values[0])};
  return true;
}

// nftables read back: `counter snat ip to 169.254.7.127` (one address, nothing else).
size_t Ext<SnatTarget>::from_nft(Family, NftStmts s, DecodedRule& d) {
  const size_t c = nft::counter_at(s);
  const Json* snat = c < s.size() ? nft::statement(s[c], "snat") : nullptr;
  const Json* addr = snat ? nft::member(*snat, "addr") : nullptr;
  const Json* family = snat ? nft::member(*snat, "family") : nullptr;
  if (!addr || !addr->is_string() || snat->size() != (family ? 2u : 1u)) return 0;
  auto a = parse_ip(addr->get<std::string>());
  if (!a.ok()) return 0;
  if (family && (!family->is_string() || family->get<std::string>() != (a.value.v6 ? "ip6" : "ip")))
    return 0;
  d.rule.target = SnatTarget{addr->get<std::string>()};
  return c + 1;
}

// netlink: the counter, the address as an immediate, `nat snat` of the address's family.
void Ext<SnatTarget>::nft_nl(const SnatTarget& t, const NftContext&, std::vector<NlExpr>& out) {
  const IpAddr a = parse_ip(t.addr).value;
  out.push_back(NlCounter{});
  out.push_back(nl::immediate(NlBytes(a.bytes.begin(), a.bytes.begin() + (a.v6 ? 16 : 4))));
  NlNat nat;
  nat.type = nl::kNatSnat;
  nat.family = a.v6 ? nl::kNfprotoIpv6 : nl::kNfprotoIpv4;
  nat.reg_addr_min = nl::kReg1;
  out.push_back(nat);
}

}  // namespace snare
