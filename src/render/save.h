// Save form: rules as the kernel shows them, i.e. as `iptables-save` prints them once loaded
// (iptables 1.8.9; legacy and nft print the same rule text). This is what `--dry-run
// --output-format=save` prints, what `snare verify` and a refused re-run show, and what the root
// tests compare with iptables-legacy-save.
//
// The kernel's canonical form differs from istio's text: addresses and interfaces come first,
// the implicit `-m tcp`/`-m udp` match is explicit, marks are hex, MARK is `--set-xmark`,
// CONNMARK shows its masks, TPROXY shows `--on-ip`, host bits of CIDRs are cleared.
#pragma once

#include <string>
#include <vector>

#include "model/table.h"

namespace snare {

// One rule as `-A CHAIN ...` in canonical form.
std::string render_save_rule(const Rule& rule, Family family);

// One table: `*table`, chain headers `:NAME POLICY [0:0]`, rules chain by chain, `COMMIT`. An
// entry the decoder could not model fully is followed by ` [unsupported by snare: ...]`, so that
// a foreign rule stays recognisable. With `counters`, each rule starts with its
// `[packets:bytes]`, as `iptables-save -c` prints it.
std::string render_save_table(const TableModel& table, bool counters = false);
std::string render_save(const std::vector<TableModel>& tables);

}  // namespace snare
