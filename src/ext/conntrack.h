// The conntrack match: `-m conntrack --ctstate S1,S2` (xt_conntrack, revision 3).
#pragma once

#include "ext/ext.h"

namespace snare {

template <>
struct Ext<ConntrackMatch> {
  static void restore(const ConntrackMatch& m, std::string& out);
  static void nft(const ConntrackMatch& m, const NftContext& ctx, std::string& out);
  static void nft_expr(const ConntrackMatch& m, const NftContext& ctx, Json& out);
  static void nft_nl(const ConntrackMatch& m, const NftContext& ctx, std::vector<NlExpr>& out);
  static void save(const ConntrackMatch& m, SaveContext& ctx, std::string& out);
  static SaveSlot slot(const ConntrackMatch&) { return SaveSlot::xt_match; }
  static MatchResult eval(const ConntrackMatch& m, const EvalContext& ctx);
  static bool from_save(Family family, std::string_view name, std::vector<SaveOpt>& opts,
                        DecodedRule& out);
  static Status encode(const ConntrackMatch& m, EntryWriter& w);
  static bool decode(Family family, const XtView& xt, DecodedRule& out);
  static constexpr std::array<XtDecoder, 1> kXt{{{"conntrack", 3, &decode}}};
  static size_t from_nft(Family family, NftStmts stmts, DecodedRule& out);
};

}  // namespace snare
