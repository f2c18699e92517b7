// The netlink form of a plan (model/netlink_form.h): what nft 1.0.6 would send for istio's
// nftables transaction of the plan, built from the extensions' nft_nl forms. It mirrors
// nft_expected_form (ext/nft_kernel_form.h), which builds the same tables as JSON: the plan's
// inet tables (model/nft_layout.h) in istio's order, each chain's rules in the order the kernel
// holds them after the transaction, the probe sets as the nat table's named sets.
#pragma once

#include <string>

#include "model/netlink_form.h"
#include "model/nft_layout.h"
#include "model/rule.h"

namespace snare {

// Every rule labelled with istio's text of it as the dry-run prints it (`add rule inet T C ...`
// or `insert rule ... index N ...`); owner ids as spelled, unless `numeric_ids`.
NlForm nft_netlink_form(const Plan& plan, bool numeric_ids = false);

// A named set as nft declares it (`add set inet T NAME { type ipv4_addr ; comment "..." ; }`):
// its key and nft's userdata, no members.
NlSet nft_netlink_set(const IpSet& set);

// One rule's statements in istio's text (`oifname lo ... counter return`).
std::string nft_rule_statements(const Rule& rule, bool numeric_ids);
// The text of one rule operation: the dry-run's line (render/nft.h prints it with this).
std::string nft_op_text(const NftTable& table, const NftOp& op, bool numeric_ids);

}  // namespace snare
