// nftables renderer: a plan as the transaction istio's knftables sends to `nft -f` (its nftables
// goldens, byte for byte): per table `add table`, `flush table`, the chains that get rules, then
// the rules in plan order, every one with `counter`. This is `--native-nftables --dry-run`'s
// output and, with the table deletions of apply/nft_apply.h in front, what an apply commits.
#pragma once

#include <string>

#include "model/nft_layout.h"

namespace snare {

// `add rule inet istio-proxy-nat istio-output oifname lo ... counter return`, or `insert rule ...
// index N ...`. Owner matches keep their spelling (`skgid java`), or with `numeric_ids` give the
// number config resolved (what an apply sends, so that nft resolves no name again).
std::string render_nft_op(const NftTable& table, const NftOp& op, bool numeric_ids = false);

// One rule's statements alone: `oifname lo ... counter return`.
std::string render_nft_statements(const Rule& rule, bool numeric_ids = false);

// `add chain inet istio-proxy-nat prerouting { type nat hook prerouting priority -100 ; }`.
std::string render_nft_chain(const NftTable& table, const NftChain& chain);

// The whole transaction for the plan's tables (empty for a plan without rules).
std::string render_nft(const Plan& plan, bool numeric_ids = false);

}  // namespace snare
