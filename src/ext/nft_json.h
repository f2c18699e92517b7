// Building blocks of the nftables JSON statements the extensions' nft_expr forms produce, in the
// shape `nft -j list ruleset` prints them (libnftables' JSON schema: match, payload, meta, ct,
// counter, mangle...). Values that nft prints as numbers (ports, marks, ids) are numbers here.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
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
// An interface name with the meaning it has in iptables mode, as nft stores it: a trailing '+'
// (iptables' prefix wildcard) becomes nft's '*' wildcard, and a literal '*' is escaped ("\*"),
// since nft reads a trailing '*' as a wildcard. "eth+" -> "eth*", "x*" -> "x\*".
std::string iface_value(const std::string& iptables_name);
// The same in nft's input language: bare when it is a plain name (letters first, then letters,
// digits, '.', '_' or '-', with a digit or a punctuation mark, or "lo": istio's own spelling,
// `iifname eth0`), else in double quotes, so that '#', ';', '}', '$' or a keyword
// ("counter") stay part of the name. Names with '"' or '\' cannot be written (see
// iface_expressible).
std::string iface_text(const std::string& iptables_name);
// A name as nft stores it ("x#", "eth*") in nft's input language: bare when plain, as above,
// else quoted.
std::string iface_literal(const std::string& value);
// Whether nft's language can hold the name: no '"' (a quoted string cannot contain one) and no
// '\' (an escape character inside one).
bool iface_expressible(const std::string& name);

// --- reading them back (the from_nft forms): every accessor takes any JSON value, of any type,
// and answers "not this" rather than throw, since a listing read back is untrusted input.

// The member `key` of an object; nullptr when `j` is no object or lacks it.
const Json* member(const Json& j, const char* key);
// The value of `stmt` when it is the one-member object {kind: value}, else nullptr.
const Json* statement(const Json& stmt, const char* kind);
// A `match` statement's operator and operands; false when `stmt` is not one.
struct MatchParts {
  std::string op;
  const Json* left = nullptr;
  const Json* right = nullptr;
};
bool read_match(const Json& stmt, MatchParts& out);
// `expr` is {"meta": {"key": key}}, {"ct": {"key": key}}.
bool is_meta(const Json& expr, const char* key);
bool is_ct(const Json& expr, const char* key);
// `expr` is {"payload": {"protocol": P, "field": field}}: P; else empty.
std::string payload_protocol(const Json& expr, const char* field);
// An unsigned number that fits 32 bits.
std::optional<uint32_t> u32(const Json& v);
// A port ("15001") or a range ({"range": [1000, 2000]}: "1000:2000", iptables' spelling).
std::optional<std::string> port_of(const Json& v);
// `key` alone (mask all ones) or {"&": [key, MASK]}, where `is_key` says what the key is: the
// mask, or nullopt when `expr` is neither.
std::optional<uint32_t> masked_key(const Json& expr, bool (*is_key)(const Json&));
// 1 when `stmts` begins with a counter statement, else 0.
size_t counter_at(std::span<const Json> stmts);

}  // namespace snare::nft
