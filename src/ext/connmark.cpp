// The connmark match and the CONNMARK target (see connmark.h).
#include "ext/connmark.h"

#include <fmt/format.h>
#include <linux/netfilter/xt_connmark.h>

#include <cstring>

#include "base/parse.h"
#include "ext/mark.h"
#include "ext/nft_json.h"

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
  out += t.restore ? "-j CONNMARK --restore-mark" : "-j CONNMARK --save-mark";
}

void Ext<ConnmarkTarget>::save(const ConnmarkTarget& t, SaveContext&, std::string& out) {
  restore(t, out);
  out += " --nfmask 0xffffffff --ctmask 0xffffffff";
}

Status Ext<ConnmarkTarget>::encode(const ConnmarkTarget& t, EntryWriter& w) {
  xt_connmark_tginfo2 info{};
  info.mode = t.restore ? XT_CONNMARK_RESTORE : XT_CONNMARK_SAVE;
  info.ctmask = info.nfmask = 0xffffffff;
  std::memcpy(w.add_target("CONNMARK", 2, sizeof info), &info, sizeof info);
  return Status::Ok();
}

bool Ext<ConnmarkTarget>::decode(Family, const XtView& xt, DecodedRule& d) {
  if (xt.size < sizeof(xt_connmark_tginfo2)) return false;
  xt_connmark_tginfo2 c;
  std::memcpy(&c, xt.data, sizeof c);
  if ((c.mode != XT_CONNMARK_SAVE && c.mode != XT_CONNMARK_RESTORE) || c.ctmask != 0xffffffff ||
      c.nfmask != 0xffffffff || c.shift_bits)
    return false;
  d.rule.target = ConnmarkTarget{c.mode == XT_CONNMARK_RESTORE};
  return true;
}

// nftables: `ct mark 1337`.
void Ext<ConnmarkMatch>::nft(const ConnmarkMatch& m, const NftContext&, std::string& out) {
  out += "ct mark ";
  out += m.mark;
}

void Ext<ConnmarkMatch>::nft_expr(const ConnmarkMatch& m, const NftContext&, Json& out) {
  out.push_back(nft::match(false, nft::ct("mark"), nft::number(m.mark)));
}

// nftables: `counter ct mark set mark` (save), `counter meta mark set ct mark` (restore).
void Ext<ConnmarkTarget>::nft(const ConnmarkTarget& t, const NftContext&, std::string& out) {
  out += t.restore ? "counter meta mark set ct mark" : "counter ct mark set mark";
}

void Ext<ConnmarkTarget>::nft_expr(const ConnmarkTarget& t, const NftContext&, Json& out) {
  out.push_back(nft::counter());
  out.push_back(t.restore ? nft::mangle(nft::meta("mark"), nft::ct("mark"))
                          : nft::mangle(nft::ct("mark"), nft::meta("mark")));
}

}  // namespace snare
