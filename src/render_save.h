// Save form: rules as the kernel shows them, i.e. as `iptables-save` prints them after the rules
// were loaded (iptables 1.8.9, legacy and nft print the same rule text). This is what
// `--dry-run --output-format=save` prints, what `snare verify` compares, and what the root tests
// compare with iptables-legacy-save.
//
// The kernel's canonical form differs from istio's text: addresses and interfaces come first,
// the implicit `-m tcp`/`-m udp` match is explicit, marks are hex, MARK is `--set-xmark`,
// CONNMARK shows its masks, TPROXY shows `--on-ip`, host bits of CIDRs are cleared.
#pragma once

#include <string>
#include <vector>

#include "rule.h"

namespace snare {

// Tables as `*table`, chain headers `:NAME POLICY [0:0]`, rules chain by chain, `COMMIT`.
std::string render_save(const std::vector<TableImage>& tables, Family family);
std::string render_save_table(const TableImage& table, Family family);

// One rule as `-A CHAIN ...` in canonical form.
std::string render_save_rule(const Rule& rule, Family family);

// Canonical address text: "10.0.0.1/8" → "10.0.0.0/8", "2001:DB8::/32" → "2001:db8::/32".
// Returns the input unchanged when it does not parse.
std::string canonical_cidr(const std::string& cidr, Family family);

}  // namespace snare
