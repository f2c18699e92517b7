// The targets without a match of their own: the standard target (`-j CHAIN`, ACCEPT, DROP,
// RETURN), REDIRECT (revision 0), TPROXY (revision 1) and CT (`--zone`, revision 2).
#pragma once

#include "ext/ext.h"

namespace snare {

template <>
struct Ext<JumpTarget> {
  static void restore(const JumpTarget& t, std::string& out);
  static void nft(const JumpTarget& t, const NftContext& ctx, std::string& out);
  static void nft_expr(const JumpTarget& t, const NftContext& ctx, Json& out);
  static void nft_nl(const JumpTarget& t, const NftContext& ctx, std::vector<NlExpr>& out);
  static void save(const JumpTarget& t, SaveContext& ctx, std::string& out);
  static const std::string* entered_chain(const JumpTarget& t);  // not for a verdict
  static TargetResult eval(const JumpTarget& t, EvalContext& ctx);
  static bool from_save(Family family, std::string_view name, std::vector<SaveOpt>& opts,
                        DecodedRule& out);
  static Status encode(const JumpTarget& t, EntryWriter& w);
  static bool decode(Family family, const XtView& xt, DecodedRule& out);
  static constexpr std::array<XtDecoder, 1> kXt{{{"", 0, &decode}}};  // the standard target
  static size_t from_nft(Family family, NftStmts stmts, DecodedRule& out);
};

template <>
struct Ext<RedirectTarget> {
  static void restore(const RedirectTarget& t, std::string& out);
  static void nft(const RedirectTarget& t, const NftContext& ctx, std::string& out);
  static void nft_expr(const RedirectTarget& t, const NftContext& ctx, Json& out);
  static void nft_nl(const RedirectTarget& t, const NftContext& ctx, std::vector<NlExpr>& out);
  static void save(const RedirectTarget& t, SaveContext& ctx, std::string& out);
  static const std::string* entered_chain(const RedirectTarget&) { return nullptr; }
  static TargetResult eval(const RedirectTarget& t, EvalContext& ctx);
  static bool from_save(Family family, std::string_view name, std::vector<SaveOpt>& opts,
                        DecodedRule& out);
  static Status encode(const RedirectTarget& t, EntryWriter& w);
  static bool decode(Family family, const XtView& xt, DecodedRule& out);
  static constexpr std::array<XtDecoder, 1> kXt{{{"REDIRECT", 0, &decode}}};
  static size_t from_nft(Family family, NftStmts stmts, DecodedRule& out);
};

template <>
struct Ext<TproxyTarget> {
  static void restore(const TproxyTarget& t, std::string& out);
  static void nft(const TproxyTarget& t, const NftContext& ctx, std::string& out);
  static void nft_expr(const TproxyTarget& t, const NftContext& ctx, Json& out);
  static void nft_nl(const TproxyTarget& t, const NftContext& ctx, std::vector<NlExpr>& out);
  static void save(const TproxyTarget& t, SaveContext& ctx, std::string& out);
  static const std::string* entered_chain(const TproxyTarget&) { return nullptr; }
  static TargetResult eval(const TproxyTarget& t, EvalContext& ctx);
  static bool from_save(Family family, std::string_view name, std::vector<SaveOpt>& opts,
                        DecodedRule& out);
  static Status encode(const TproxyTarget& t, EntryWriter& w);
  static bool decode(Family family, const XtView& xt, DecodedRule& out);
  static constexpr std::array<XtDecoder, 1> kXt{{{"TPROXY", 1, &decode}}};
  static size_t from_nft(Family family, NftStmts stmts, DecodedRule& out);
};

template <>
struct Ext<CtZoneTarget> {
  static void restore(const CtZoneTarget& t, std::string& out);
  static void nft(const CtZoneTarget& t, const NftContext& ctx, std::string& out);
  static void nft_expr(const CtZoneTarget& t, const NftContext& ctx, Json& out);
  static void nft_nl(const CtZoneTarget& t, const NftContext& ctx, std::vector<NlExpr>& out);
  static void save(const CtZoneTarget& t, SaveContext& ctx, std::string& out);
  static const std::string* entered_chain(const CtZoneTarget&) { return nullptr; }
  static TargetResult eval(const CtZoneTarget& t, EvalContext& ctx);
  static bool from_save(Family family, std::string_view name, std::vector<SaveOpt>& opts,
                        DecodedRule& out);
  static Status encode(const CtZoneTarget& t, EntryWriter& w);
  static bool decode(Family family, const XtView& xt, DecodedRule& out);
  static constexpr std::array<XtDecoder, 1> kXt{{{"CT", 2, &decode}}};
  static size_t from_nft(Family family, NftStmts stmts, DecodedRule& out);
};

}  // namespace snare
