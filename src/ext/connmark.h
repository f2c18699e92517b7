// The connmark match (`-m connmark --mark V`, revision 1) and the CONNMARK target
// (`-j CONNMARK --save-mark` / `--restore-mark`, revision 2).
#pragma once

#include "ext/ext.h"

namespace snare {

template <>
struct Ext<ConnmarkMatch> {
  static void restore(const ConnmarkMatch& m, std::string& out);
  static void nft(const ConnmarkMatch& m, const NftContext& ctx, std::string& out);
  static void nft_expr(const ConnmarkMatch& m, const NftContext& ctx, Json& out);
  static void nft_nl(const ConnmarkMatch& m, const NftContext& ctx, std::vector<NlExpr>& out);
  static void save(const ConnmarkMatch& m, SaveContext& ctx, std::string& out);
  static SaveSlot slot(const ConnmarkMatch&) { return SaveSlot::xt_match; }
  static MatchResult eval(const ConnmarkMatch& m, const EvalContext& ctx);
  static bool from_save(Family family, std::string_view name, std::vector<SaveOpt>& opts,
                        DecodedRule& out);
  static Status encode(const ConnmarkMatch& m, EntryWriter& w);
  static bool decode(Family family, const XtView& xt, DecodedRule& out);
  static constexpr std::array<XtDecoder, 1> kXt{{{"connmark", 1, &decode}}};
  static size_t from_nft(Family family, NftStmts stmts, DecodedRule& out);
};

template <>
struct Ext<ConnmarkTarget> {
  static void restore(const ConnmarkTarget& t, std::string& out);
  static void nft(const ConnmarkTarget& t, const NftContext& ctx, std::string& out);
  static void nft_expr(const ConnmarkTarget& t, const NftContext& ctx, Json& out);
  static void nft_nl(const ConnmarkTarget& t, const NftContext& ctx, std::vector<NlExpr>& out);
  static void save(const ConnmarkTarget& t, SaveContext& ctx, std::string& out);
  static const std::string* entered_chain(const ConnmarkTarget&) { return nullptr; }
  static TargetResult eval(const ConnmarkTarget& t, EvalContext& ctx);
  static bool from_save(Family family, std::string_view name, std::vector<SaveOpt>& opts,
                        DecodedRule& out);
  static Status encode(const ConnmarkTarget& t, EntryWriter& w);
  static bool decode(Family family, const XtView& xt, DecodedRule& out);
  static constexpr std::array<XtDecoder, 1> kXt{{{"CONNMARK", 2, &decode}}};
  static size_t from_nft(Family family, NftStmts stmts, DecodedRule& out);
};

}  // namespace snare
