// The tcp and udp matches: --sport/--dport (xt_tcpudp, revision 0).
#pragma once

#include "ext/ext.h"

namespace snare {

template <>
struct Ext<PortMatch> {
  static void restore(const PortMatch& m, std::string& out);
  static void nft(const PortMatch& m, const NftContext& ctx, std::string& out);
  static void nft_expr(const PortMatch& m, const NftContext& ctx, Json& out);
  static void nft_nl(const PortMatch& m, const NftContext& ctx, std::vector<NlExpr>& out);
  static void save(const PortMatch& m, SaveContext& ctx, std::string& out);
  static SaveSlot slot(const PortMatch&) { return SaveSlot::xt_match; }
  static MatchResult eval(const PortMatch& m, const EvalContext& ctx);
  static bool from_save(Family family, std::string_view name, std::vector<SaveOpt>& opts,
                        DecodedRule& out);
  static Status encode(const PortMatch& m, EntryWriter& w);
  static bool decode(Family family, const XtView& xt, DecodedRule& out);
  static constexpr std::array<XtDecoder, 2> kXt{{{"tcp", 0, &decode}, {"udp", 0, &decode}}};
  static size_t from_nft(Family family, NftStmts stmts, DecodedRule& out);
};

// A bare `-m tcp` / `-m udp`. The kernel holds it as the same tcp/udp match a port option makes
// (with every port), so it has no decoder of its own: PortMatch's decoder returns it.
template <>
struct Ext<L4Match> {
  static void restore(const L4Match& m, std::string& out);
  static void nft(const L4Match& m, const NftContext& ctx, std::string& out);
  static void nft_expr(const L4Match& m, const NftContext& ctx, Json& out);
  static void nft_nl(const L4Match& m, const NftContext& ctx, std::vector<NlExpr>& out);
  static void save(const L4Match& m, SaveContext& ctx, std::string& out);
  static SaveSlot slot(const L4Match&) { return SaveSlot::xt_match; }
  static MatchResult eval(const L4Match& m, const EvalContext& ctx);
  static Status encode(const L4Match& m, EntryWriter& w);
  // A tcp/udp match without a port option: read back by Ext<PortMatch>::decode.
  using DecodedBy = PortMatch;
  static constexpr std::array<XtDecoder, 0> kXt{};
  static size_t from_nft(Family family, NftStmts stmts, DecodedRule& out);
};

// A port or range as iptables-save prints it: "080" -> "80", "1000:2000" stays.
std::string port_text(const std::string& port);

}  // namespace snare
