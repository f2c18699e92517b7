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
  nf_nat_range2 r{};
  r.flags = NF_NAT_RANGE_MAP_IPS;
  std::memcpy(&r.min_addr, a.value.bytes.data(), a.value.v6 ? 16 : 4);
  std::memcpy(&r.max_addr, a.value.bytes.data(), a.value.v6 ? 16 : 4);
  std::memcpy(w.add_target("SNAT", 2, sizeof r), &r, sizeof r);
  return Status::Ok();
}

bool Ext<SnatTarget>::decode(Family f, const XtView& xt, DecodedRule& d) {
  if (xt.size < sizeof(nf_nat_range2)) return false;
  nf_nat_range2 r;
  std::memcpy(&r, xt.data, sizeof r);
  const size_t n = f == Family::v4 ? 4 : 16;
  if (r.flags != NF_NAT_RANGE_MAP_IPS || std::memcmp(&r.min_addr, &r.max_addr, n) != 0)
    return false;
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(f == Family::v4 ? AF_INET : AF_INET6, &r.min_addr, text, sizeof text);
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

}  // namespace snare
