// istio's nftables tables as libnftables' JSON schema, both ways: a form (model/nft_form.h) as a
// listing (the dry-run's save form) and a listing (`nft -j list table ...`) as a form, normalised
// (ext/nft_kernel_form.h) so that it compares with the plan's.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "model/nft_form.h"

namespace snare {

// The `inet` tables named in `tables` out of a JSON listing (`{"nftables": [...]}` of libnftables).
// Tables absent from the listing are absent from `out`. The chains come in istio's order per
// table (model/nft_layout.h), the kernel's handle order aside.
Status nft_form_from_listing(const std::string& json_text, const std::vector<std::string>& tables,
                             NftForm& out);

// A form as a listing in libnftables' JSON schema (handles left out): the dry-run's save form.
std::string nft_form_json(const NftForm& form);

}  // namespace snare
