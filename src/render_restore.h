// Restore form: the iptables-restore input istio-iptables feeds to `iptables-restore --noflush`,
// byte for byte as istio builds it (istio-rules.md §4). This is what `--dry-run` prints.
#pragma once

#include <string>

#include "rule.h"

namespace snare {

// One family's restore text: tables in alphabetical order, each `* table`, `-N` lines, rules,
// `COMMIT`. Empty when the set has no rules.
std::string render_restore(const RuleSet& set);

// One rule as istio writes it: `-A CHAIN ...` or `-I CHAIN N ...`.
std::string render_restore_rule(const Rule& rule);

}  // namespace snare
