// The mark match and the MARK target (see mark.h).
#include "ext/mark.h"

#include <fmt/format.h>
#include <linux/netfilter/xt_mark.h>

#include <cstring>

#include "base/parse.h"
#include "ext/nft_json.h"
#include "ext/nft_nl.h"

namespace snare {

std::string format_mark(uint32_t value, uint32_t mask) {
  if (mask == 0xffffffff) return fmt::format("{:#x}", value);
  return fmt::format("{:#x}/{:#x}", value, mask);
}

std::string save_mark(const std::string& mark) {
  auto m = parse_mark(mark);
  return m.ok() ? format_mark(m.value.value, m.value.mask) : mark;
}

void Ext<MarkMatch>::restore(const MarkMatch& m, std::string& out) {
  fmt::format_to(std::back_inserter(out), "-m mark {}--mark {}", m.invert ? "! " : "", m.mark);
}

void Ext<MarkMatch>::save(const MarkMatch& m, SaveContext&, std::string& out) {
  fmt::format_to(std::back_inserter(out), "-m mark {}--mark {}", m.invert ? "! " : "",
                 save_mark(m.mark));
}

Status Ext<MarkMatch>::encode(const MarkMatch& m, EntryWriter& w) {
  auto mark = parse_mark(m.mark);
  if (!mark.ok()) return Status::Fail(fmt::format("bad mark '{}'", m.mark));
  xt_mark_mtinfo1 info{};
  info.mark = mark.value.value, info.mask = mark.value.mask, info.invert = m.invert ? 1 : 0;
  std::memcpy(w.add_match("mark", 1, sizeof info), &info, sizeof info);
  return Status::Ok();
}

bool Ext<MarkMatch>::decode(Family, const XtView& xt, DecodedRule& d) {
  if (xt.size < sizeof(xt_mark_mtinfo1)) return false;
  xt_mark_mtinfo1 m;
  std::memcpy(&m, xt.data, sizeof m);
  d.rule.matches.push_back(MarkMatch{m.invert != 0, format_mark(m.mark, m.mask)});
  return true;
}

void Ext<MarkTarget>::restore(const MarkTarget& t, std::string& out) {
  out += "-j MARK --set-mark ";
  out += t.mark;
}

void Ext<MarkTarget>::save(const MarkTarget& t, SaveContext&, std::string& out) {
  // --set-mark V is --set-xmark V/0xffffffff, and the kernel shows the latter.
  auto m = parse_mark(t.mark);
  fmt::format_to(std::back_inserter(out), "-j MARK --set-xmark {:#x}/{:#x}", m.value.value,
                 m.value.mask);
}

Status Ext<MarkTarget>::encode(const MarkTarget& t, EntryWriter& w) {
  auto mark = parse_mark(t.mark);
  if (!mark.ok()) return Status::Fail(fmt::format("bad mark '{}'", t.mark));
  xt_mark_tginfo2 info{};
  info.mark = mark.value.value, info.mask = mark.value.mask;
  std::memcpy(w.add_target("MARK", 2, sizeof info), &info, sizeof info);
  return Status::Ok();
}

bool Ext<MarkTarget>::decode(Family, const XtView& xt, DecodedRule& d) {
  if (xt.size < sizeof(xt_mark_tginfo2)) return false;
  xt_mark_tginfo2 m;
  std::memcpy(&m, xt.data, sizeof m);
  if (m.mask != 0xffffffff) return false;
  d.rule.target = MarkTarget{format_mark(m.mark, 0xffffffff)};
  return true;
}

// nftables: `mark 1337`, `mark != 1338`; with a mask, one of the spellings of istio's ambient
// rules: `mark and 0xfff != 0x539`, `meta mark and ...`, `meta mark & ...`, `mark and 0xfff  !=`.
void Ext<MarkMatch>::nft(const MarkMatch& m, const NftContext&, std::string& out) {
  const size_t slash = m.mark.find('/');
  if (slash == std::string::npos)
    return (void)fmt::format_to(std::back_inserter(out), "mark{} {}", m.invert ? " !=" : "",
                                m.mark);
  const bool meta =
      m.nft == NftMaskSpelling::meta_mark_and || m.nft == NftMaskSpelling::meta_mark_amp;
  fmt::format_to(std::back_inserter(out), "{}mark {} {}{}{} {}", meta ? "meta " : "",
                 m.nft == NftMaskSpelling::meta_mark_amp ? "&" : "and", m.mark.substr(slash + 1),
                 m.nft == NftMaskSpelling::mark_and_wide ? "  " : " ",
                 m.invert ? "!=" : "==", m.mark.substr(0, slash));
}

void Ext<MarkMatch>::nft_expr(const MarkMatch& m, const NftContext&, Json& out) {
  out.push_back(nft::match(m.invert, nft::masked(nft::meta("mark"), m.mark),
                           nft::number(m.mark.substr(0, m.mark.find('/')))));
}

// nftables: `counter meta mark set 1338`.
void Ext<MarkTarget>::nft(const MarkTarget& t, const NftContext&, std::string& out) {
  out += "counter meta mark set ";
  out += t.mark;
}

void Ext<MarkTarget>::nft_expr(const MarkTarget& t, const NftContext&, Json& out) {
  out.push_back(nft::counter());
  out.push_back(nft::mangle(nft::meta("mark"), nft::number(t.mark)));
}

MatchResult Ext<MarkMatch>::eval(const MarkMatch& m, const EvalContext& ctx) {
  auto mark = parse_mark(m.mark);
  if (!mark.ok()) return MatchResult::unknown(fmt::format("bad mark '{}'", m.mark));
  if (mark_matches(ctx.packet.mark, mark.value) != m.invert) return MatchResult::yes();
  return MatchResult::no(
      fmt::format("{}--mark {}: mark {:#x}", m.invert ? "! " : "", m.mark, ctx.packet.mark));
}

// --set-mark V/M is the kernel's --set-xmark V/M: clear the mask's bits, then xor the value.
TargetResult Ext<MarkTarget>::eval(const MarkTarget& t, EvalContext& ctx) {
  auto mark = parse_mark(t.mark);
  if (!mark.ok()) return {TargetResult::Kind::unknown, {}, fmt::format("bad mark '{}'", t.mark)};
  uint32_t& m = ctx.packet.mark;
  m = (m & ~mark.value.mask) ^ mark.value.value;
  return {TargetResult::Kind::next, {}, fmt::format("mark {:#x}", m)};
}

bool Ext<MarkMatch>::from_save(Family, std::string_view, std::vector<SaveOpt>& opts,
                               DecodedRule& d) {
  SaveOpt* o = take_opt(opts, "--mark");
  if (!o) return true;
  d.rule.matches.push_back(MarkMatch{o->invert, std::string(o->values[0])});
  return parse_mark(o->values[0]).ok();
}

// iptables-save prints --set-xmark V/M (--set-mark V is V/0xffffffff).
bool Ext<MarkTarget>::from_save(Family, std::string_view, std::vector<SaveOpt>& opts,
                                DecodedRule& d) {
  SaveOpt* o = take_opt(opts, "--set-xmark", 1, false);
  if (!o) o = take_opt(opts, "--set-mark", 1, false);
  if (!o) return false;
  d.rule.target = MarkTarget{std::string(o->values[0])};
  return parse_mark(o->values[0]).ok();
}

namespace {
bool meta_mark(const Json& e) { return nft::is_meta(e, "mark"); }
}  // namespace

// nftables read back: `meta mark 1337`, `meta mark & 0xfff != 0x539`.
size_t Ext<MarkMatch>::from_nft(Family, NftStmts s, DecodedRule& d) {
  nft::MatchParts m;
  if (!nft::read_match(s[0], m) || (m.op != "==" && m.op != "!=")) return 0;
  const std::optional<uint32_t> mask = nft::masked_key(*m.left, meta_mark);
  const std::optional<uint32_t> value = nft::u32(*m.right);
  if (!mask || !value) return 0;
  d.rule.matches.push_back(MarkMatch{m.op == "!=", format_mark(*value, *mask)});
  return 1;
}

// `counter meta mark set 1337`: the counter is the target's (istio counts every rule).
size_t Ext<MarkTarget>::from_nft(Family, NftStmts s, DecodedRule& d) {
  const size_t c = nft::counter_at(s);
  const Json* set = c < s.size() ? nft::statement(s[c], "mangle") : nullptr;
  const Json *key = set ? nft::member(*set, "key") : nullptr,
             *value = set ? nft::member(*set, "value") : nullptr;
  if (!key || !value || !nft::is_meta(*key, "mark") || !nft::u32(*value)) return 0;
  d.rule.target = MarkTarget{std::to_string(*nft::u32(*value))};
  return c + 1;
}

// netlink: `meta load mark`, masked by a bitwise when the mark has a mask, compared.
void Ext<MarkMatch>::nft_nl(const MarkMatch& m, const NftContext&, std::vector<NlExpr>& out) {
  nl::masked_match(nl::meta_load(nl::kMetaMark), m.invert, m.mark, out);
}
// netlink: the counter, the mark as an immediate, `meta set mark`.
void Ext<MarkTarget>::nft_nl(const MarkTarget& t, const NftContext&, std::vector<NlExpr>& out) {
  out.push_back(NlCounter{});
  out.push_back(nl::immediate(nl::host32(parse_mark(t.mark).value.value)));
  out.push_back(NlMetaSet{nl::kMetaMark, nl::kReg1});
}

}  // namespace snare
