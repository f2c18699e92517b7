// The owner match: `-m owner [!] --uid-owner X` / `--gid-owner X` / `--socket-exists` (xt_owner,
// revision 1).
#pragma once

#include "ext/ext.h"

namespace snare {

template <>
struct Ext<OwnerMatch> {
  static void restore(const OwnerMatch& m, std::string& out);
  static void nft(const OwnerMatch& m, const NftContext& ctx, std::string& out);
  static void nft_expr(const OwnerMatch& m, const NftContext& ctx, Json& out);
  static void nft_nl(const OwnerMatch& m, const NftContext& ctx, std::vector<NlExpr>& out);
  static void save(const OwnerMatch& m, SaveContext& ctx, std::string& out);
  static SaveSlot slot(const OwnerMatch&) { return SaveSlot::xt_match; }
  static MatchResult eval(const OwnerMatch& m, const EvalContext& ctx);
  static bool from_save(Family family, std::string_view name, std::vector<SaveOpt>& opts,
                        DecodedRule& out);
  static Status encode(const OwnerMatch& m, EntryWriter& w);
  static bool decode(Family family, const XtView& xt, DecodedRule& out);
  static constexpr std::array<XtDecoder, 1> kXt{{{"owner", 1, &decode}}};
  static size_t from_nft(Family family, NftStmts stmts, DecodedRule& out);
};

// `-m owner --socket-exists`: the same kernel match, so OwnerMatch's decoder reads it back.
template <>
struct Ext<SocketOwnerMatch> {
  static void restore(const SocketOwnerMatch& m, std::string& out);
  static void nft(const SocketOwnerMatch& m, const NftContext& ctx, std::string& out);
  static void nft_expr(const SocketOwnerMatch& m, const NftContext& ctx, Json& out);
  static void nft_nl(const SocketOwnerMatch& m, const NftContext& ctx, std::vector<NlExpr>& out);
  static void save(const SocketOwnerMatch& m, SaveContext& ctx, std::string& out);
  static SaveSlot slot(const SocketOwnerMatch&) { return SaveSlot::xt_match; }
  static MatchResult eval(const SocketOwnerMatch& m, const EvalContext& ctx);
  static Status encode(const SocketOwnerMatch& m, EntryWriter& w);
  // A flag of the owner match: read back by Ext<OwnerMatch>::decode, from the same extension.
  using DecodedBy = OwnerMatch;
  static constexpr std::array<XtDecoder, 0> kXt{};
  static size_t from_nft(Family family, NftStmts stmts, DecodedRule& out);
};

}  // namespace snare
