// The rule commands against the real kernel: the checks before anything is touched (privileges,
// nftables state), the xtables lock, the libiptc backend the composition root hands in, libnl
// routes, and one log line with the per-phase times. Exit codes: apply/cleanup 0 ok, 1 failure;
// verify 0 equal, 1 drift, 2 trouble.
#pragma once

#include "config/config.h"
#include "kernel/tables.h"
#include "model/rule.h"

namespace snare {

int apply_rules(const Config& cfg, const Plan& plan, TablesBackend& tables);
int cleanup_rules(const Config& cfg, const Plan& plan, TablesBackend& tables);
int verify_rules(const Config& cfg, const Plan& plan, TablesBackend& tables);

}  // namespace snare
