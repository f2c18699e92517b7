// The SNAT target: `-j SNAT --to-source ADDR` (xt_nat), in the revisions iptables 1.8.9 writes:
// 0 (the IPv4 compat range) for IPv4, 1 (nf_nat_range) for IPv6.
#pragma once

#include "ext/ext.h"

namespace snare {

template <>
struct Ext<SnatTarget> {
  static void restore(const SnatTarget& t, std::string& out);
  static void nft(const SnatTarget& t, const NftContext& ctx, std::string& out);
  static void nft_expr(const SnatTarget& t, const NftContext& ctx, Json& out);
  static void nft_nl(const SnatTarget& t, const NftContext& ctx, std::vector<NlExpr>& out);
  static void save(const SnatTarget& t, SaveContext& ctx, std::string& out);
  static Status encode(const SnatTarget& t, EntryWriter& w);
  static bool decode(Family family, const XtView& xt, DecodedRule& out);
  static const std::string* entered_chain(const SnatTarget&) { return nullptr; }
  static TargetResult eval(const SnatTarget& t, EvalContext& ctx);
  static bool from_save(Family family, std::string_view name, std::vector<SaveOpt>& opts,
                        DecodedRule& out);
  static constexpr std::array<XtDecoder, 2> kXt{{{"SNAT", 0, &decode}, {"SNAT", 1, &decode}}};
  static size_t from_nft(Family family, NftStmts stmts, DecodedRule& out);
};

}  // namespace snare
