// The kernel form of a plan (model/nft_form.h) built from the extensions' nft_expr forms, and
// the normal form both sides of a comparison are brought to: what the plan leaves in the kernel
// and what libnftables lists (render/nft_form_json.h) meet here as data.
//
// Normal form: no handles, counters at zero, protocols by name, set elements and ct states sorted,
// and no `meta l4proto P` match where a later match reads P's header (`meta l4proto tcp ... tcp
// dport 53`): nft lists such a rule without it, because the port match implies it (its own
// protocol dependency).
#pragma once

#include <nlohmann/json.hpp>

#include "model/nft_form.h"
#include "model/rule.h"

namespace snare {

// What the plan leaves in the kernel (its tables only), normalised; its used sets are objects of
// its nat table, without members (NftTableForm::objects).
NftForm nft_expected_form(const Plan& plan);

// A set's object line (`set NAME {"comment":...,"type":"ipv4_addr"}`, as a listing is read) and
// its declaration in nft's language (`add set inet TABLE NAME { type ipv4_addr ; comment "..." ;
// }`, istio-cni's).
std::string nft_set_object(const IpSet& set);
std::string nft_set_declaration(const std::string& table, const IpSet& set);

// The normal form of one rule's statement array (see the top of this file).
void normalize_nft_exprs(nlohmann::json& expr);

}  // namespace snare
