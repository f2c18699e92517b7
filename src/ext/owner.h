// The owner match: `-m owner [!] --uid-owner X` / `--gid-owner X` (xt_owner, revision 1).
#pragma once

#include "ext/ext.h"

namespace snare {

template <>
struct Ext<OwnerMatch> {
  static void restore(const OwnerMatch& m, std::string& out);
  static void nft(const OwnerMatch& m, const NftContext& ctx, std::string& out);
  static void nft_expr(const OwnerMatch& m, const NftContext& ctx, Json& out);
  static void save(const OwnerMatch& m, SaveContext& ctx, std::string& out);
  static SaveSlot slot(const OwnerMatch&) { return SaveSlot::xt_match; }
  static Status encode(const OwnerMatch& m, EntryWriter& w);
  static bool decode(Family family, const XtView& xt, DecodedRule& out);
  static constexpr std::array<XtDecoder, 1> kXt{{{"owner", 1, &decode}}};
};

}  // namespace snare
