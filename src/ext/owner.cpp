// The owner match (see owner.h).
#include "ext/owner.h"

#include <fmt/format.h>
#include <linux/netfilter/xt_owner.h>

#include <cstring>

#include "ext/nft_json.h"
#include "ext/nft_nl.h"

namespace snare {

void Ext<OwnerMatch>::restore(const OwnerMatch& m, std::string& out) {
  fmt::format_to(std::back_inserter(out), "-m owner {}{} {}", m.invert ? "! " : "",
                 m.gid ? "--gid-owner" : "--uid-owner", m.id);
}

// iptables-save prints the number the kernel holds; an unresolved name (never applied) as given.
void Ext<OwnerMatch>::save(const OwnerMatch& m, SaveContext&, std::string& out) {
  fmt::format_to(std::back_inserter(out), "-m owner {}{} {}", m.invert ? "! " : "",
                 m.gid ? "--gid-owner" : "--uid-owner",
                 m.number ? std::to_string(*m.number) : m.id);
}

Status Ext<OwnerMatch>::encode(const OwnerMatch& m, EntryWriter& w) {
  // The kernel stores numbers; config resolved every name of a run that reaches it.
  if (!m.number) return Status::Fail(fmt::format("owner '{}' was not resolved to a number", m.id));
  xt_owner_match_info info{};
  const uint8_t bit = m.gid ? XT_OWNER_GID : XT_OWNER_UID;
  if (m.gid)
    info.gid_min = info.gid_max = *m.number;
  else
    info.uid_min = info.uid_max = *m.number;
  info.match = bit;
  info.invert = m.invert ? bit : 0;
  std::memcpy(w.add_match("owner", 1, sizeof info), &info, sizeof info);
  return Status::Ok();
}

bool Ext<OwnerMatch>::decode(Family, const XtView& xt, DecodedRule& d) {
  if (xt.size < sizeof(xt_owner_match_info)) return false;
  xt_owner_match_info o;
  std::memcpy(&o, xt.data, sizeof o);
  if (o.match == XT_OWNER_UID && o.uid_min == o.uid_max && (o.invert & ~XT_OWNER_UID) == 0) {
    d.rule.matches.push_back(
        OwnerMatch{false, o.invert != 0, std::to_string(o.uid_min), o.uid_min});
    return true;
  }
  if (o.match == XT_OWNER_GID && o.gid_min == o.gid_max && (o.invert & ~XT_OWNER_GID) == 0) {
    d.rule.matches.push_back(OwnerMatch{true, o.invert != 0, std::to_string(o.gid_min), o.gid_min});
    return true;
  }
  if (o.match == XT_OWNER_SOCKET && o.invert == 0) {
    d.rule.matches.push_back(SocketOwnerMatch{});
    return true;
  }
  return false;
}

void Ext<SocketOwnerMatch>::restore(const SocketOwnerMatch&, std::string& out) {
  out += "-m owner --socket-exists";
}

void Ext<SocketOwnerMatch>::save(const SocketOwnerMatch& m, SaveContext&, std::string& out) {
  restore(m, out);
}

Status Ext<SocketOwnerMatch>::encode(const SocketOwnerMatch&, EntryWriter& w) {
  xt_owner_match_info info{};
  info.match = XT_OWNER_SOCKET;
  std::memcpy(w.add_match("owner", 1, sizeof info), &info, sizeof info);
  return Status::Ok();
}

// nftables has no --socket-exists (istio's nftables host rule tests `skuid` instead); the closest
// test is that the packet has an owning socket with any UID.
void Ext<SocketOwnerMatch>::nft(const SocketOwnerMatch&, const NftContext&, std::string& out) {
  out += "meta skuid 0-4294967295";
}

void Ext<SocketOwnerMatch>::nft_expr(const SocketOwnerMatch&, const NftContext&, Json& out) {
  Json range = Json::object();
  range["range"] = Json::array({0, 4294967295u});
  out.push_back(nft::match(false, nft::meta("skuid"), std::move(range)));
}

// nftables: `skuid 1337`, `skgid != java` (nft resolves names), `meta skuid` in istio's raw rules.
// An apply's transaction gives nft the number config resolved, so that nft resolves nothing.
void Ext<OwnerMatch>::nft(const OwnerMatch& m, const NftContext& ctx, std::string& out) {
  fmt::format_to(std::back_inserter(out), "{}{}{} {}", m.nft_meta ? "meta " : "",
                 m.gid ? "skgid" : "skuid", m.invert ? " !=" : "",
                 ctx.numeric_ids && m.number ? std::to_string(*m.number) : m.id);
}

// The kernel form holds the number; an unresolved name (a restore-form dry-run only) its text.
void Ext<OwnerMatch>::nft_expr(const OwnerMatch& m, const NftContext&, Json& out) {
  Json id = m.number ? Json(*m.number) : Json(m.id);
  out.push_back(nft::match(m.invert, nft::meta(m.gid ? "skgid" : "skuid"), std::move(id)));
}

// xt_owner may be used only in OUTPUT and POSTROUTING: the kernel refuses a table with one
// elsewhere, so a rule set that reaches one there was never loaded.
namespace {
bool owner_hook(const EvalContext& ctx) {
  return ctx.hook == Hook::output || ctx.hook == Hook::postrouting;
}
}  // namespace

// With no local socket behind the packet, xt_owner matches only when every test it makes is
// negated (`! --uid-owner X` holds for a packet without an owner).
MatchResult Ext<OwnerMatch>::eval(const OwnerMatch& m, const EvalContext& ctx) {
  const char* opt = m.gid ? "--gid-owner" : "--uid-owner";
  if (!owner_hook(ctx))
    return MatchResult::unknown(
        fmt::format("-m owner in {}: the kernel takes it only in OUTPUT "
                    "and POSTROUTING",
                    hook_name(ctx.hook)));
  if (!m.number) return MatchResult::unknown(fmt::format("{} {} is not a number", opt, m.id));
  const char* bang = m.invert ? "! " : "";
  if (!ctx.packet.socket)
    return m.invert ? MatchResult::yes()
                    : MatchResult::no(fmt::format("{}{} {}: no local socket", bang, opt, m.id));
  const uint32_t id = m.gid ? ctx.packet.gid : ctx.packet.uid;
  if ((id == *m.number) != m.invert) return MatchResult::yes();
  return MatchResult::no(fmt::format("{}{} {}: {} {}", bang, opt, m.id, m.gid ? "gid" : "uid", id));
}

MatchResult Ext<SocketOwnerMatch>::eval(const SocketOwnerMatch&, const EvalContext& ctx) {
  if (!owner_hook(ctx))
    return MatchResult::unknown(
        fmt::format("--socket-exists in {}: the kernel takes it only in "
                    "OUTPUT and POSTROUTING",
                    hook_name(ctx.hook)));
  if (ctx.packet.socket) return MatchResult::yes();
  return MatchResult::no("--socket-exists: no local socket");
}

// `-m owner [!] --uid-owner N [!] --gid-owner N --socket-exists` (numbers, as iptables-save
// prints them; a range is not modelled).
bool Ext<OwnerMatch>::from_save(Family, std::string_view, std::vector<SaveOpt>& opts,
                                DecodedRule& d) {
  bool ok = true;
  for (const char* opt : {"--uid-owner", "--gid-owner"}) {
    while (SaveOpt* o = take_opt(opts, opt)) {
      auto n = parse_u32(o->values[0]);
      ok = ok && n.ok();
      d.rule.matches.push_back(
          OwnerMatch{opt[2] == 'g', o->invert, std::string(o->values[0]),
                     n.ok() ? std::optional<uint32_t>(n.value) : std::nullopt});
    }
  }
  if (take_opt(opts, "--socket-exists", 0, false)) d.rule.matches.push_back(SocketOwnerMatch{});
  return ok;
}

// nftables read back: `meta skuid 1337`, `meta skgid != 1337` (the kernel keeps numbers).
size_t Ext<OwnerMatch>::from_nft(Family, NftStmts s, DecodedRule& d) {
  nft::MatchParts m;
  if (!nft::read_match(s[0], m) || (m.op != "==" && m.op != "!=")) return 0;
  const bool gid = nft::is_meta(*m.left, "skgid");
  const std::optional<uint32_t> n = nft::u32(*m.right);
  if ((!gid && !nft::is_meta(*m.left, "skuid")) || !n) return 0;
  d.rule.matches.push_back(OwnerMatch{gid, m.op == "!=", std::to_string(*n), *n});
  return 1;
}

// `meta skuid 0-4294967295`: any owning socket, what the nft form of --socket-exists writes.
size_t Ext<SocketOwnerMatch>::from_nft(Family, NftStmts s, DecodedRule& d) {
  nft::MatchParts m;
  if (!nft::read_match(s[0], m) || m.op != "==" || !nft::is_meta(*m.left, "skuid")) return 0;
  const Json* r = nft::statement(*m.right, "range");
  if (!r || !r->is_array() || r->size() != 2 || nft::u32((*r)[0]) != 0u ||
      nft::u32((*r)[1]) != 0xffffffffu)
    return 0;
  d.rule.matches.push_back(SocketOwnerMatch{});
  return 1;
}

// netlink: `meta load skuid` and the id as 4 host-order bytes (the number config resolved).
void Ext<OwnerMatch>::nft_nl(const OwnerMatch& m, const NftContext&, std::vector<NlExpr>& out) {
  out.push_back(nl::meta_load(m.gid ? nl::kMetaSkgid : nl::kMetaSkuid));
  out.push_back(nl::cmp(m.invert, nl::host32(m.number.value_or(parse_u32(m.id).value))));
}
// netlink: `meta skuid 0-4294967295` is a load, a byteorder (hton) and `cmp gte`/`cmp lte`; the
// netlink form holds no byteorder expression, and the two bounds read the same either way.
void Ext<SocketOwnerMatch>::nft_nl(const SocketOwnerMatch&, const NftContext&,
                                   std::vector<NlExpr>& out) {
  out.push_back(nl::meta_load(nl::kMetaSkuid));
  out.push_back(NlCmp{nl::kCmpGte, nl::kReg1, nl::host32(0)});
  out.push_back(NlCmp{nl::kCmpLte, nl::kReg1, nl::host32(0xffffffff)});
}

}  // namespace snare
