// nftables forms (model/nft_form.h) as nft commands, one line each, and the difference of two:
// what `snare verify --native-nftables` prints. Statements are printed from their normalised
// JSON in nft's listing syntax (`tcp dport 15021 counter return`), the same printer for what the
// kernel holds and for what the flags create, so equal lines mean equal rules.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "model/nft_form.h"

namespace snare {

// `iifname "lo" meta l4proto tcp counter return`; a statement the printer does not know is
// printed as its JSON.
std::string nft_statements_text(const nlohmann::json& expr);

// `add table inet T`, `add chain inet T C { type nat hook output priority -100 ; policy accept ;
// }`, `add rule inet T C STATEMENTS`, in table, chain and rule order.
std::vector<std::string> nft_form_lines(const NftForm& form);

// "-" lines the kernel holds and the flags do not create, "+" lines missing from the kernel, with
// the table and chain lines as context; empty when equal.
std::string diff_nft_forms(const NftForm& have, const NftForm& want);

}  // namespace snare
