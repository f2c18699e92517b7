// Restore form: the iptables-restore input istio-iptables feeds to `iptables-restore --noflush`,
// byte for byte as istio builds it. This is what `--dry-run` prints.
#pragma once

#include <string>

#include "model/rule.h"

namespace snare {

// One family's restore text: tables in alphabetical order, each `* table`, `-N` lines, rules,
// `COMMIT`. Empty when the family has no rules.
std::string render_restore(const Plan& plan, Family family);

// One rule as istio writes it: `-A CHAIN ...` or `-I CHAIN N ...`.
std::string render_restore_rule(const Rule& rule);

}  // namespace snare
