// The mark match (`-m mark [!] --mark V`, xt_mark revision 1) and the MARK target
// (`-j MARK --set-mark V`, revision 2), one kernel module as in iptables' libxt_mark.c.
#pragma once

#include <cstdint>

#include "ext/ext.h"

namespace snare {

template <>
struct Ext<MarkMatch> {
  static void restore(const MarkMatch& m, std::string& out);
  static void nft(const MarkMatch& m, const NftContext& ctx, std::string& out);
  static void nft_expr(const MarkMatch& m, const NftContext& ctx, Json& out);
  static void nft_nl(const MarkMatch& m, const NftContext& ctx, std::vector<NlExpr>& out);
  static void save(const MarkMatch& m, SaveContext& ctx, std::string& out);
  static SaveSlot slot(const MarkMatch&) { return SaveSlot::xt_match; }
  static MatchResult eval(const MarkMatch& m, const EvalContext& ctx);
  static bool from_save(Family family, std::string_view name, std::vector<SaveOpt>& opts,
                        DecodedRule& out);
  static Status encode(const MarkMatch& m, EntryWriter& w);
  static bool decode(Family family, const XtView& xt, DecodedRule& out);
  static constexpr std::array<XtDecoder, 1> kXt{{{"mark", 1, &decode}}};
  static size_t from_nft(Family family, NftStmts stmts, DecodedRule& out);
};

template <>
struct Ext<MarkTarget> {
  static void restore(const MarkTarget& t, std::string& out);
  static void nft(const MarkTarget& t, const NftContext& ctx, std::string& out);
  static void nft_expr(const MarkTarget& t, const NftContext& ctx, Json& out);
  static void nft_nl(const MarkTarget& t, const NftContext& ctx, std::vector<NlExpr>& out);
  static void save(const MarkTarget& t, SaveContext& ctx, std::string& out);
  static const std::string* entered_chain(const MarkTarget&) { return nullptr; }
  static TargetResult eval(const MarkTarget& t, EvalContext& ctx);
  static bool from_save(Family family, std::string_view name, std::vector<SaveOpt>& opts,
                        DecodedRule& out);
  static Status encode(const MarkTarget& t, EntryWriter& w);
  static bool decode(Family family, const XtView& xt, DecodedRule& out);
  static constexpr std::array<XtDecoder, 1> kXt{{{"MARK", 2, &decode}}};
  static size_t from_nft(Family family, NftStmts stmts, DecodedRule& out);
};

// "0x539", or "0x539/0xfff" when the mask is not all ones: iptables-save's spelling.
std::string format_mark(uint32_t value, uint32_t mask);
// A mark as istio spells it ("1337", "0x539/0xffffffff") in iptables-save's spelling.
std::string save_mark(const std::string& mark);

}  // namespace snare
