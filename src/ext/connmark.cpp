// The connmark match and the CONNMARK target (see connmark.h).
#include "ext/connmark.h"

#include <fmt/format.h>
#include <linux/netfilter/xt_connmark.h>

#include <cstring>

#include "base/parse.h"
#include "ext/mark.h"
#include "ext/nft_json.h"
#include "ext/nft_nl.h"

namespace snare {

void Ext<ConnmarkMatch>::restore(const ConnmarkMatch& m, std::string& out) {
  out += "-m connmark --mark ";
  out += m.mark;
}

void Ext<ConnmarkMatch>::save(const ConnmarkMatch& m, SaveContext&, std::string& out) {
  out += "-m connmark --mark ";
  out += save_mark(m.mark);
}

Status Ext<ConnmarkMatch>::encode(const ConnmarkMatch& m, EntryWriter& w) {
  auto mark = parse_mark(m.mark);
  if (!mark.ok()) return Status::Fail(fmt::format("bad mark '{}'", m.mark));
  xt_connmark_mtinfo1 info{};
  info.mark = mark.value.value, info.mask = mark.value.mask;
  std::memcpy(w.add_match("connmark", 1, sizeof info), &info, sizeof info);
  return Status::Ok();
}

bool Ext<ConnmarkMatch>::decode(Family, const XtView& xt, DecodedRule& d) {
  if (xt.size < sizeof(xt_connmark_mtinfo1)) return false;
  xt_connmark_mtinfo1 m;
  std::memcpy(&m, xt.data, sizeof m);
  d.rule.matches.push_back(ConnmarkMatch{format_mark(m.mark, m.mask)});
  return m.invert == 0;
}

void Ext<ConnmarkTarget>::restore(const ConnmarkTarget& t, std::string& out) {
  if (!t.set_mark.empty()) {
    out += "-j CONNMARK --set-xmark ";
    out += t.set_mark;
    return;
  }
  out += t.restore ? "-j CONNMARK --restore-mark" : "-j CONNMARK --save-mark";
  if (t.masks_spelled) out += " --nfmask 0xffffffff --ctmask 0xffffffff";
}

void Ext<ConnmarkTarget>::save(const ConnmarkTarget& t, SaveContext&, std::string& out) {
  if (!t.set_mark.empty()) {
    auto m = parse_mark(t.set_mark);
    fmt::format_to(std::back_inserter(out), "-j CONNMARK --set-xmark {:#x}/{:#x}", m.value.value,
                   m.value.mask);
    return;
  }
  out += t.restore ? "-j CONNMARK --restore-mark" : "-j CONNMARK --save-mark";
  out += " --nfmask 0xffffffff --ctmask 0xffffffff";
}

Status Ext<ConnmarkTarget>::encode(const ConnmarkTarget& t, EntryWriter& w) {
  xt_connmark_tginfo2 info{};
  if (!t.set_mark.empty()) {
    // --set-xmark V/M: ctmark = (ctmark & ~M) ^ V. iptables' libxt_CONNMARK leaves nfmask at its
    // all-ones default, unused in this mode but part of the entry's bytes.
    auto mark = parse_mark(t.set_mark);
    if (!mark.ok()) return Status::Fail(fmt::format("bad connmark '{}'", t.set_mark));
    info.mode = XT_CONNMARK_SET;
    info.ctmark = mark.value.value, info.ctmask = mark.value.mask;
    info.nfmask = 0xffffffff;
  } else {
    info.mode = t.restore ? XT_CONNMARK_RESTORE : XT_CONNMARK_SAVE;
    info.ctmask = info.nfmask = 0xffffffff;
  }
  std::memcpy(w.add_target("CONNMARK", 2, sizeof info), &info, sizeof info);
  return Status::Ok();
}

bool Ext<ConnmarkTarget>::decode(Family, const XtView& xt, DecodedRule& d) {
  if (xt.size < sizeof(xt_connmark_tginfo2)) return false;
  xt_connmark_tginfo2 c;
  std::memcpy(&c, xt.data, sizeof c);
  if (c.mode == XT_CONNMARK_SET && c.nfmask == 0xffffffff && c.shift_bits == 0) {
    d.rule.target = ConnmarkTarget{false, format_mark(c.ctmark, c.ctmask)};
    return true;
  }
  if ((c.mode != XT_CONNMARK_SAVE && c.mode != XT_CONNMARK_RESTORE) || c.ctmask != 0xffffffff ||
      c.nfmask != 0xffffffff || c.shift_bits)
    return false;
  d.rule.target = ConnmarkTarget{c.mode == XT_CONNMARK_RESTORE};
  return true;
}

// nftables: `ct mark 1337`; with a mask `ct mark and 0xfff == 0x111`.
void Ext<ConnmarkMatch>::nft(const ConnmarkMatch& m, const NftContext&, std::string& out) {
  const size_t slash = m.mark.find('/');
  if (slash == std::string::npos) {
    out += "ct mark ";
    out += m.mark;
    return;
  }
  fmt::format_to(std::back_inserter(out), "ct mark and {} == {}", m.mark.substr(slash + 1),
                 m.mark.substr(0, slash));
}

void Ext<ConnmarkMatch>::nft_expr(const ConnmarkMatch& m, const NftContext&, Json& out) {
  out.push_back(nft::match(false, nft::masked(nft::ct("mark"), m.mark),
                           nft::number(m.mark.substr(0, m.mark.find('/')))));
}

// nftables: `counter ct mark set mark` (save), `counter meta mark set ct mark` (restore), and
// --set-xmark V/M as istio's ambient rule writes it: `ct mark set ct mark & ~M |  V` (two spaces).
void Ext<ConnmarkTarget>::nft(const ConnmarkTarget& t, const NftContext&, std::string& out) {
  if (!t.set_mark.empty()) {
    auto m = parse_mark(t.set_mark);
    fmt::format_to(std::back_inserter(out), "counter ct mark set ct mark & {:#010x} |  {:#x}",
                   ~m.value.mask, m.value.value);
    return;
  }
  out += t.restore ? "counter meta mark set ct mark" : "counter ct mark set mark";
}

void Ext<ConnmarkTarget>::nft_expr(const ConnmarkTarget& t, const NftContext&, Json& out) {
  out.push_back(nft::counter());
  if (!t.set_mark.empty()) {
    // The kernel keeps the value's bits in the and-mask: `& 0xfffff111 | 0x111`.
    auto m = parse_mark(t.set_mark);
    const uint32_t keep = ~m.value.mask | m.value.value;
    Json kept = Json::object(), value = Json::object();
    kept["&"] = Json::array({nft::ct("mark"), keep});
    value["|"] = Json::array({std::move(kept), m.value.value});
    out.push_back(nft::mangle(nft::ct("mark"), std::move(value)));
    return;
  }
  out.push_back(t.restore ? nft::mangle(nft::meta("mark"), nft::ct("mark"))
                          : nft::mangle(nft::ct("mark"), nft::meta("mark")));
}

MatchResult Ext<ConnmarkMatch>::eval(const ConnmarkMatch& m, const EvalContext& ctx) {
  auto mark = parse_mark(m.mark);
  if (!mark.ok()) return MatchResult::unknown(fmt::format("bad mark '{}'", m.mark));
  // Before conntrack (the raw table) the packet has no connection to read a mark from.
  if (!ctx.conntrack) return MatchResult::no(fmt::format("--mark {}: no connection yet", m.mark));
  if (mark_matches(ctx.packet.ctmark, mark.value)) return MatchResult::yes();
  return MatchResult::no(
      fmt::format("connmark --mark {}: ctmark {:#x}", m.mark, ctx.packet.ctmark));
}

// The masks are all ones (istio's rules, and iptables' defaults): save copies the packet's mark
// to the connection, restore the connection's to the packet, --set-xmark V/M clears M and xors V.
TargetResult Ext<ConnmarkTarget>::eval(const ConnmarkTarget& t, EvalContext& ctx) {
  Packet& p = ctx.packet;
  if (!ctx.conntrack) return {TargetResult::Kind::next, {}, "no connection yet: no effect"};
  if (!t.set_mark.empty()) {
    auto m = parse_mark(t.set_mark);
    if (!m.ok()) return {TargetResult::Kind::unknown, {}, fmt::format("bad mark '{}'", t.set_mark)};
    p.ctmark = (p.ctmark & ~m.value.mask) ^ m.value.value;
  } else if (t.restore) {
    p.mark = p.ctmark;
  } else {
    p.ctmark = p.mark;
  }
  return {TargetResult::Kind::next, {}, fmt::format("mark {:#x} ctmark {:#x}", p.mark, p.ctmark)};
}

// `-m connmark --mark V[/M]` (a negated one is not modelled).
bool Ext<ConnmarkMatch>::from_save(Family, std::string_view, std::vector<SaveOpt>& opts,
                                   DecodedRule& d) {
  SaveOpt* o = take_opt(opts, "--mark", 1, false);
  if (!o) return true;
  d.rule.matches.push_back(ConnmarkMatch{std::string(o->values[0])});
  return parse_mark(o->values[0]).ok();
}

// --save-mark / --restore-mark with all-ones masks (the only ones modelled), or --set-xmark.
bool Ext<ConnmarkTarget>::from_save(Family, std::string_view, std::vector<SaveOpt>& opts,
                                    DecodedRule& d) {
  if (SaveOpt* o = take_opt(opts, "--set-xmark", 1, false)) {
    d.rule.target = ConnmarkTarget{false, std::string(o->values[0])};
    return parse_mark(o->values[0]).ok();
  }
  const bool restore = take_opt(opts, "--restore-mark", 0, false) != nullptr;
  if (!restore && !take_opt(opts, "--save-mark", 0, false)) return false;
  for (const char* mask : {"--nfmask", "--ctmask"}) {
    SaveOpt* m = take_opt(opts, mask, 1, false);
    if (m && m->values[0] != "0xffffffff") m->used = false;
  }
  d.rule.target = ConnmarkTarget{restore};
  return true;
}

namespace {
bool ct_mark(const Json& e) { return nft::is_ct(e, "mark"); }
}  // namespace

// nftables read back: `ct mark 1337`, `ct mark & 0xfff == 0x111`.
size_t Ext<ConnmarkMatch>::from_nft(Family, NftStmts s, DecodedRule& d) {
  nft::MatchParts m;
  if (!nft::read_match(s[0], m) || m.op != "==") return 0;
  const std::optional<uint32_t> mask = nft::masked_key(*m.left, ct_mark);
  const std::optional<uint32_t> value = nft::u32(*m.right);
  if (!mask || !value) return 0;
  d.rule.matches.push_back(ConnmarkMatch{format_mark(*value, *mask)});
  return 1;
}

// `counter ct mark set meta mark` (save), `counter meta mark set ct mark` (restore), `counter ct
// mark set ct mark & KEEP | V` (--set-xmark V/M, the kernel's KEEP = ~M | V), `ct mark set V`.
size_t Ext<ConnmarkTarget>::from_nft(Family, NftStmts s, DecodedRule& d) {
  const size_t c = nft::counter_at(s);
  const Json* set = c < s.size() ? nft::statement(s[c], "mangle") : nullptr;
  const Json *key = set ? nft::member(*set, "key") : nullptr,
             *value = set ? nft::member(*set, "value") : nullptr;
  if (!key || !value || set->size() != 2) return 0;
  if (nft::is_meta(*key, "mark") && ct_mark(*value)) {
    d.rule.target = ConnmarkTarget{true};
    return c + 1;
  }
  if (!ct_mark(*key)) return 0;
  if (nft::is_meta(*value, "mark")) {
    d.rule.target = ConnmarkTarget{false};
    return c + 1;
  }
  if (auto v = nft::u32(*value)) {
    d.rule.target = ConnmarkTarget{false, format_mark(*v, 0xffffffffu)};
    return c + 1;
  }
  const Json* o = nft::statement(*value, "|");
  if (!o || !o->is_array() || o->size() != 2) return 0;
  const Json* a = nft::statement((*o)[0], "&");
  const std::optional<uint32_t> v = nft::u32((*o)[1]);
  if (!a || !a->is_array() || a->size() != 2 || !ct_mark((*a)[0]) || !v) return 0;
  const std::optional<uint32_t> keep = nft::u32((*a)[1]);
  if (!keep) return 0;
  d.rule.target = ConnmarkTarget{false, format_mark(*v, ~*keep | *v)};
  return c + 1;
}

void Ext<ConnmarkMatch>::nft_nl(const ConnmarkMatch& m, const NftContext&,
                                std::vector<NlExpr>& out) {
  nl::masked_match(nl::ct_load(nl::kCtMark), false, m.mark, out);
}
// netlink: the counter, then one mark loaded and stored as the other; --set-xmark keeps the
// mask's complement of ct mark and sets the value (a bitwise between).
void Ext<ConnmarkTarget>::nft_nl(const ConnmarkTarget& t, const NftContext&,
                                 std::vector<NlExpr>& out) {
  out.push_back(NlCounter{});
  if (!t.set_mark.empty()) {
    const Mark m = parse_mark(t.set_mark).value;
    out.push_back(nl::ct_load(nl::kCtMark));
    out.push_back(nl::bitwise(nl::host32(~m.mask), nl::host32(m.value)));
    out.push_back(NlCtSet{nl::kCtMark, nl::kReg1});
    return;
  }
  if (t.restore) {
    out.push_back(nl::ct_load(nl::kCtMark));
    out.push_back(NlMetaSet{nl::kMetaMark, nl::kReg1});
  } else {
    out.push_back(nl::meta_load(nl::kMetaMark));
    out.push_back(NlCtSet{nl::kCtMark, nl::kReg1});
  }
}

}  // namespace snare
