// The set match: `-m set --match-set NAME src|dst` (xt_set, revision 4), an ipset lookup.
//
// x_tables keeps the set's index in the namespace's ip_set table, not its name: the kernel layer
// finds the index of each name before a rule is encoded, and the name of each index read back
// (resolve, over ext/forms.h's KernelIds), so that encode and decode stay pure.
#pragma once

#include "ext/ext.h"

namespace snare {

template <>
struct Ext<SetMatch> {
  static void restore(const SetMatch& m, std::string& out);
  static void nft(const SetMatch& m, const NftContext& ctx, std::string& out);
  static void nft_expr(const SetMatch& m, const NftContext& ctx, Json& out);
  static void nft_nl(const SetMatch& m, const NftContext& ctx, std::vector<NlExpr>& out);
  static void save(const SetMatch& m, SaveContext& ctx, std::string& out);
  static SaveSlot slot(const SetMatch&) { return SaveSlot::xt_match; }
  static MatchResult eval(const SetMatch& m, const EvalContext& ctx);
  static bool from_save(Family family, std::string_view name, std::vector<SaveOpt>& opts,
                        DecodedRule& out);
  static Status encode(const SetMatch& m, EntryWriter& w);
  static bool decode(Family family, const XtView& xt, DecodedRule& out);
  static constexpr std::array<XtDecoder, 1> kXt{{{"set", 4, &decode}}};
  // Fills in the index of a name (a set that does not exist gets one no set has, so that the
  // rule equals no kernel entry) and the name of an index read back.
  static void resolve(SetMatch& m, const KernelIds& ids);
  static size_t from_nft(Family family, NftStmts stmts, DecodedRule& out);
};

}  // namespace snare
