// The set match (see set.h).
#include "ext/set.h"

#include <fmt/format.h>

#include "ext/nft_json.h"

namespace snare {

void Ext<SetMatch>::restore(const SetMatch& m, std::string& out) {
  fmt::format_to(std::back_inserter(out), "-m set --match-set {} {}", m.name,
                 m.source ? "src" : "dst");
}

void Ext<SetMatch>::save(const SetMatch& m, SaveContext&, std::string& out) { restore(m, out); }

// Why no encoding: the kernel entry holds the set's index in the namespace's ipset table, not its
// name, so writing one needs an ipset lookup the pure encoder cannot make. Only the host rules
// (`snare ambient-host`, not applied yet) use this match.
Status Ext<SetMatch>::encode(const SetMatch& m, EntryWriter&) {
  return Status::Fail(fmt::format(
      "the set match (--match-set {}) cannot be written yet: it needs the ipset's kernel index",
      m.name));
}

// Likewise the index read back has no name without an ipset lookup: such a rule stays foreign
// ("unsupported"), kept byte for byte.
bool Ext<SetMatch>::decode(Family, const XtView&, DecodedRule&) { return false; }

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

}  // namespace snare
