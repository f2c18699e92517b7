// The entry header's matches: addresses (-s/-d), interfaces (-i/-o) and the protocol (-p), which
// x_tables keeps in the ipt_entry / ip6t_entry header rather than in xt matches.
#pragma once

#include "ext/ext.h"

namespace snare {

template <>
struct Ext<AddrMatch> {
  static void restore(const AddrMatch& m, std::string& out);
  static void nft(const AddrMatch& m, const NftContext& ctx, std::string& out);
  static void nft_expr(const AddrMatch& m, const NftContext& ctx, Json& out);
  static void nft_nl(const AddrMatch& m, const NftContext& ctx, std::vector<NlExpr>& out);
  static void save(const AddrMatch& m, SaveContext& ctx, std::string& out);
  static SaveSlot slot(const AddrMatch& m) {
    return m.source ? SaveSlot::source : SaveSlot::destination;
  }
  static MatchResult eval(const AddrMatch& m, const EvalContext& ctx);
  static bool from_save(Family family, std::string_view name, std::vector<SaveOpt>& opts,
                        DecodedRule& out);
  static Status encode(const AddrMatch& m, EntryWriter& w);
  static constexpr std::array<XtDecoder, 0> kXt{};  // read from the header instead:
  static void from_header(Family family, const EntryHeader& h, DecodedRule& out);
  static size_t from_nft(Family family, NftStmts stmts, DecodedRule& out);
};

template <>
struct Ext<IfaceMatch> {
  static void restore(const IfaceMatch& m, std::string& out);
  static void nft(const IfaceMatch& m, const NftContext& ctx, std::string& out);
  static void nft_expr(const IfaceMatch& m, const NftContext& ctx, Json& out);
  static void nft_nl(const IfaceMatch& m, const NftContext& ctx, std::vector<NlExpr>& out);
  static void save(const IfaceMatch& m, SaveContext& ctx, std::string& out);
  static SaveSlot slot(const IfaceMatch& m) {
    return m.out ? SaveSlot::out_iface : SaveSlot::in_iface;
  }
  static MatchResult eval(const IfaceMatch& m, const EvalContext& ctx);
  static bool from_save(Family family, std::string_view name, std::vector<SaveOpt>& opts,
                        DecodedRule& out);
  static Status encode(const IfaceMatch& m, EntryWriter& w);
  static constexpr std::array<XtDecoder, 0> kXt{};  // read from the header instead:
  static void from_header(Family family, const EntryHeader& h, DecodedRule& out);
  static size_t from_nft(Family family, NftStmts stmts, DecodedRule& out);
};

template <>
struct Ext<ProtoMatch> {
  static void restore(const ProtoMatch& m, std::string& out);
  static void nft(const ProtoMatch& m, const NftContext& ctx, std::string& out);
  static void nft_expr(const ProtoMatch& m, const NftContext& ctx, Json& out);
  static void nft_nl(const ProtoMatch& m, const NftContext& ctx, std::vector<NlExpr>& out);
  static void save(const ProtoMatch& m, SaveContext& ctx, std::string& out);
  static SaveSlot slot(const ProtoMatch&) { return SaveSlot::proto; }
  static MatchResult eval(const ProtoMatch& m, const EvalContext& ctx);
  static bool from_save(Family family, std::string_view name, std::vector<SaveOpt>& opts,
                        DecodedRule& out);
  static Status encode(const ProtoMatch& m, EntryWriter& w);
  static constexpr std::array<XtDecoder, 0> kXt{};  // read from the header instead:
  static void from_header(Family family, const EntryHeader& h, DecodedRule& out);
  static size_t from_nft(Family family, NftStmts stmts, DecodedRule& out);
};

// Canonical address text: "10.0.0.1/8" -> "10.0.0.0/8", "2001:DB8::/32" -> "2001:db8::/32".
// Returns the input unchanged when it does not parse.
std::string canonical_cidr(const std::string& cidr, Family family);

// "tcp", "udp", ... for a protocol number, as iptables-save names them; the number otherwise.
std::string proto_name(unsigned proto);

}  // namespace snare
