// The set match (see set.h).
#include "ext/set.h"

#include <fmt/format.h>
#include <linux/netfilter/ipset/ip_set.h>
#include <linux/netfilter/xt_set.h>

#include <cstring>

#include "ext/nft_json.h"
#include "ext/nft_nl.h"

namespace snare {

void Ext<SetMatch>::restore(const SetMatch& m, std::string& out) {
  fmt::format_to(std::back_inserter(out), "-m set --match-set {} {}", m.name,
                 m.source ? "src" : "dst");
}

// A rule read back whose index no set holds any more (not possible while the rule references
// it, but said rather than printed empty).
void Ext<SetMatch>::save(const SetMatch& m, SaveContext&, std::string& out) {
  if (!m.name.empty() || !m.index) return restore(m, out);
  fmt::format_to(std::back_inserter(out), "-m set --match-set #{} {}", *m.index,
                 m.source ? "src" : "dst");
}

// One dimension (`src` or `dst`): dim 1, and the direction bit of dimension 1 for `src`, as
// iptables' set match writes it; no counter conditions.
Status Ext<SetMatch>::encode(const SetMatch& m, EntryWriter& w) {
  if (!m.index)
    return Status::Fail(fmt::format(
        "the set match (--match-set {}) has no set index: the set was not looked up", m.name));
  xt_set_info_match_v4 info{};
  info.match_set.index = *m.index;
  info.match_set.dim = IPSET_DIM_ONE;
  info.match_set.flags = m.source ? (1 << IPSET_DIM_ONE) : 0;
  std::memcpy(w.add_match("set", 4, sizeof info), &info, sizeof info);
  return Status::Ok();
}

// Only what encode writes; the name comes from the kernel layer (resolve).
bool Ext<SetMatch>::decode(Family, const XtView& xt, DecodedRule& d) {
  if (xt.size < sizeof(xt_set_info_match_v4)) return false;
  xt_set_info_match_v4 info;
  std::memcpy(&info, xt.data, sizeof info);
  const uint8_t src = 1 << IPSET_DIM_ONE;
  if (info.match_set.dim != IPSET_DIM_ONE || (info.match_set.flags & ~src) != 0 ||
      info.packets.op != IPSET_COUNTER_NONE || info.bytes.op != IPSET_COUNTER_NONE ||
      info.flags != 0)
    return false;
  SetMatch m{"", info.match_set.flags == src};
  m.index = info.match_set.index;
  d.rule.matches.push_back(std::move(m));
  return true;
}

void Ext<SetMatch>::resolve(SetMatch& m, const KernelIds& ids) {
  if (!m.index && !m.name.empty())
    m.index = ids.set_index ? ids.set_index(m.name).value_or(IPSET_INVALID_ID) : IPSET_INVALID_ID;
  if (m.name.empty() && m.index && ids.set_name) m.name = ids.set_name(*m.index).value_or("");
}

// nftables: `ip daddr @istio-inpod-probes-v4` (`ip6` in an IPv6 rule), an nft set in the table.
void Ext<SetMatch>::nft(const SetMatch& m, const NftContext& ctx, std::string& out) {
  fmt::format_to(std::back_inserter(out), "{} {} @{}", ctx.scope == Scope::v6 ? "ip6" : "ip",
                 m.source ? "saddr" : "daddr", m.name);
}

void Ext<SetMatch>::nft_expr(const SetMatch& m, const NftContext& ctx, Json& out) {
  out.push_back(nft::match(
      false, nft::payload(ctx.scope == Scope::v6 ? "ip6" : "ip", m.source ? "saddr" : "daddr"),
      "@" + m.name));
}

// An ipset's members live in the kernel, not in the rules: a trace cannot tell.
MatchResult Ext<SetMatch>::eval(const SetMatch& m, const EvalContext&) {
  return MatchResult::unknown(fmt::format("--match-set {} {}: the set's members are not known",
                                          m.name, m.source ? "src" : "dst"));
}

bool Ext<SetMatch>::from_save(Family, std::string_view, std::vector<SaveOpt>& opts,
                              DecodedRule& d) {
  SaveOpt* o = take_opt(opts, "--match-set", 2, false);
  if (!o) return true;
  if (o->values[1] != "src" && o->values[1] != "dst") return o->used = false, true;
  d.rule.matches.push_back(SetMatch{std::string(o->values[0]), o->values[1] == "src"});
  return true;
}

// nftables read back: `ip daddr @istio-inpod-probes-v4`, a set of the table.
size_t Ext<SetMatch>::from_nft(Family, NftStmts s, DecodedRule& d) {
  nft::MatchParts m;
  if (!nft::read_match(s[0], m) || m.op != "==" || !m.right->is_string()) return 0;
  const std::string& name = m.right->get_ref<const std::string&>();
  if (name.size() < 2 || name[0] != '@' || name.size() > 257) return 0;
  for (const char* field : {"saddr", "daddr"}) {
    const std::string proto = nft::payload_protocol(*m.left, field);
    if (proto != "ip" && proto != "ip6") continue;
    d.rule.matches.push_back(SetMatch{name.substr(1), field[0] == 's'});
    return 1;
  }
  return 0;
}

// netlink: the address after nft's `meta nfproto` dependency, looked up in the table's set.
void Ext<SetMatch>::nft_nl(const SetMatch& m, const NftContext& ctx, std::vector<NlExpr>& out) {
  nl::addr_lookup(ctx, ctx.scope == Scope::v6, m.source, m.name, out);
}

}  // namespace snare
