// The SNAT target: `-j SNAT --to-source ADDR` (xt_nat, revision 2, both families).
#pragma once

#include "ext/ext.h"

namespace snare {

template <>
struct Ext<SnatTarget> {
  static void restore(const SnatTarget& t, std::string& out);
  static void nft(const SnatTarget& t, const NftContext& ctx, std::string& out);
  static void nft_expr(const SnatTarget& t, const NftContext& ctx, Json& out);
  static void save(const SnatTarget& t, SaveContext& ctx, std::string& out);
  static Status encode(const SnatTarget& t, EntryWriter& w);
  static bool decode(Family family, const XtView& xt, DecodedRule& out);
  static constexpr std::array<XtDecoder, 1> kXt{{{"SNAT", 2, &decode}}};
};

}  // namespace snare
