// The conntrack match (see conntrack.h).
#include "ext/conntrack.h"

#include <fmt/format.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/xt_conntrack.h>

#include <cctype>
#include <cstring>
#include <utility>

#include "ext/nft_json.h"
#include "ext/nft_nl.h"

namespace snare {
namespace {

// The states in the order iptables prints them.
const std::pair<uint16_t, const char*> kStates[] = {
    {XT_CONNTRACK_STATE_INVALID, "INVALID"},
    {XT_CONNTRACK_STATE_BIT(IP_CT_NEW), "NEW"},
    {XT_CONNTRACK_STATE_BIT(IP_CT_RELATED), "RELATED"},
    {XT_CONNTRACK_STATE_BIT(IP_CT_ESTABLISHED), "ESTABLISHED"},
    {XT_CONNTRACK_STATE_UNTRACKED, "UNTRACKED"},
    {XT_CONNTRACK_STATE_SNAT, "SNAT"},
    {XT_CONNTRACK_STATE_DNAT, "DNAT"}};

}  // namespace

void Ext<ConntrackMatch>::restore(const ConntrackMatch& m, std::string& out) {
  fmt::format_to(std::back_inserter(out), "-m conntrack --ctstate {}", fmt::join(m.states, ","));
}

void Ext<ConntrackMatch>::save(const ConntrackMatch& m, SaveContext&, std::string& out) {
  restore(m, out);
}

Status Ext<ConntrackMatch>::encode(const ConntrackMatch& m, EntryWriter& w) {
  uint16_t mask = 0;
  for (const std::string& s : m.states) {
    auto it = std::find_if(std::begin(kStates), std::end(kStates),
                           [&](const auto& k) { return s == k.second; });
    if (it == std::end(kStates))
      return Status::Fail(fmt::format("unknown conntrack state '{}'", s));
    mask |= it->first;
  }
  xt_conntrack_mtinfo3 info{};
  info.match_flags = XT_CONNTRACK_STATE;
  info.state_mask = mask;
  std::memcpy(w.add_match("conntrack", 3, sizeof info), &info, sizeof info);
  return Status::Ok();
}

bool Ext<ConntrackMatch>::decode(Family, const XtView& xt, DecodedRule& d) {
  if (xt.size < sizeof(xt_conntrack_mtinfo3)) return false;
  xt_conntrack_mtinfo3 c;
  std::memcpy(&c, xt.data, sizeof c);
  ConntrackMatch out;
  for (const auto& [bit, name] : kStates)
    if (c.state_mask & bit) out.states.push_back(name);
  d.rule.matches.push_back(std::move(out));
  return c.match_flags == XT_CONNTRACK_STATE && c.invert_flags == 0;
}

// nftables: `ct state related,established`.
void Ext<ConntrackMatch>::nft(const ConntrackMatch& m, const NftContext&, std::string& out) {
  out += "ct state ";
  for (size_t i = 0; i < m.states.size(); ++i) {
    if (i > 0) out += ',';
    for (char c : m.states[i])
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
}

// Listed as `"op": "in"` with the states in the kernel's bit order; one state is a bare string.
void Ext<ConntrackMatch>::nft_expr(const ConntrackMatch& m, const NftContext&, Json& out) {
  Json states = Json::array();
  for (const std::string& s : m.states) {
    std::string lower;
    for (char c : s) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    states.push_back(lower);
  }
  Json right = states.size() == 1 ? states[0] : states;
  out.push_back(
      {{"match", {{"op", "in"}, {"left", nft::ct("state")}, {"right", std::move(right)}}}});
}

// The packet's state: the first packet of a connection is NEW, a later one ESTABLISHED; before
// conntrack has seen it (the raw table) the kernel calls it INVALID.
MatchResult Ext<ConntrackMatch>::eval(const ConntrackMatch& m, const EvalContext& ctx) {
  const char* state = !ctx.conntrack ? "INVALID" : ctx.packet.established ? "ESTABLISHED" : "NEW";
  for (const std::string& s : m.states)
    if (s == state) return MatchResult::yes();
  return MatchResult::no(fmt::format("--ctstate {}: {}", fmt::join(m.states, ","), state));
}

bool Ext<ConntrackMatch>::from_save(Family, std::string_view, std::vector<SaveOpt>& opts,
                                    DecodedRule& d) {
  SaveOpt* o = take_opt(opts, "--ctstate", 1, false);
  if (!o) return true;
  d.rule.matches.push_back(ConntrackMatch{split_all(o->values[0], ',')});
  return true;
}

// nftables read back: `ct state established,related` ("in", the states as a list or one).
size_t Ext<ConntrackMatch>::from_nft(Family, NftStmts s, DecodedRule& d) {
  nft::MatchParts m;
  if (!nft::read_match(s[0], m) || (m.op != "in" && m.op != "==") || !nft::is_ct(*m.left, "state"))
    return 0;
  const Json one = Json::array({*m.right});
  const Json& list = m.right->is_array() ? *m.right : one;
  ConntrackMatch out;
  for (const Json& e : list) {
    if (!e.is_string()) return 0;
    std::string state = e.get<std::string>();
    for (char& ch : state) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    if (state != "NEW" && state != "ESTABLISHED" && state != "RELATED" && state != "INVALID" &&
        state != "UNTRACKED")
      return 0;
    out.states.push_back(std::move(state));
  }
  if (out.states.empty()) return 0;
  d.rule.matches.push_back(std::move(out));
  return 1;
}

// netlink: `ct load state`, the states' bits as a mask, `cmp neq 0` (any of them).
void Ext<ConntrackMatch>::nft_nl(const ConntrackMatch& m, const NftContext&,
                                 std::vector<NlExpr>& out) {
  uint32_t bits = 0;
  for (const std::string& s : m.states) {
    // The kernel's NF_CT_STATE_* bits: invalid 1, established 2, related 4, new 8.
    if (s == "INVALID") bits |= 1;
    if (s == "ESTABLISHED") bits |= 2;
    if (s == "RELATED") bits |= 4;
    if (s == "NEW") bits |= 8;
    if (s == "UNTRACKED") bits |= 64;
  }
  out.push_back(nl::ct_load(nl::kCtState));
  out.push_back(nl::bitwise(nl::host32(bits), nl::host32(0)));
  out.push_back(nl::cmp(true, nl::host32(0)));
}

}  // namespace snare
