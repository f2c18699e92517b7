// Building blocks of the nftables JSON statements the extensions' nft_expr forms produce, in the
// shape `nft -j list ruleset` prints them (libnftables' JSON schema: match, payload, meta, ct,
// counter, mangle...). Values that nft prints as numbers (ports, marks, ids) are numbers here.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "ext/ext.h"

namespace snare::nft {

Json meta(const char* key);                                 // {"meta": {"key": key}}
Json ct(const char* key);                                   // {"ct": {"key": key}}
Json payload(const std::string& proto, const char* field);  // {"payload": {...}}
// {"match": {"op": "==" or "!=", "left": left, "right": right}}
Json match(bool invert, Json left, Json right);
Json counter();                     // {"counter": {"packets": 0, "bytes": 0}}
Json mangle(Json key, Json value);  // `KEY set VALUE`
// `KEY and MASK` ({"&": [key, mask]}) for a mark written "V/M"; the key alone without a mask.
Json masked(Json key, const std::string& mark);
// A number as istio writes it ("15001", "0x539"); the text itself when it is not one (a name
// nft would resolve), so that the comparison shows it.
Json number(const std::string& text);
// A port or a range ("1000:2000", nft's 1000-2000) as nft lists it.
Json port(const std::string& text);
// "1000:2000" as nft spells it: "1000-2000".
std::string port_text(const std::string& text);
// A chain name in nftables spelling: "ISTIO_OUTPUT" -> "istio-output", "PREROUTING" ->
// "prerouting".
std::string chain_name(const std::string& iptables_name);

}  // namespace snare::nft
