// The multiport match: `-m multiport [!] --dports a,b` (xt_multiport, revision 1).
#pragma once

#include "ext/ext.h"

namespace snare {

template <>
struct Ext<MultiportMatch> {
  static void restore(const MultiportMatch& m, std::string& out);
  static void nft(const MultiportMatch& m, const NftContext& ctx, std::string& out);
  static void nft_expr(const MultiportMatch& m, const NftContext& ctx, Json& out);
  static void nft_nl(const MultiportMatch& m, const NftContext& ctx, std::vector<NlExpr>& out);
  static void save(const MultiportMatch& m, SaveContext& ctx, std::string& out);
  static SaveSlot slot(const MultiportMatch&) { return SaveSlot::xt_match; }
  static MatchResult eval(const MultiportMatch& m, const EvalContext& ctx);
  static bool from_save(Family family, std::string_view name, std::vector<SaveOpt>& opts,
                        DecodedRule& out);
  static Status encode(const MultiportMatch& m, EntryWriter& w);
  static bool decode(Family family, const XtView& xt, DecodedRule& out);
  static constexpr std::array<XtDecoder, 1> kXt{{{"multiport", 1, &decode}}};
  static size_t from_nft(Family family, NftStmts stmts, DecodedRule& out);
};

}  // namespace snare
