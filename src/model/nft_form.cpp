// The kernel form of istio's nftables tables (see nft_form.h).
#include "model/nft_form.h"

namespace snare {

std::vector<std::string> nft_table_flag_names(uint32_t flags) {
  static const char* const kNames[] = {"dormant", "owner", "persist"};
  std::vector<std::string> out;
  for (uint32_t bit = 0; bit < 32; ++bit)
    if (flags & (1u << bit)) out.push_back(bit < 3 ? kNames[bit] : std::to_string(1u << bit));
  return out;
}

}  // namespace snare
