// The rule commands against the real kernel: the checks before anything is touched (privileges,
// nftables state in iptables mode), the xtables lock (in nftables mode the per-namespace nftables
// apply lock instead), the libiptc backend the composition root hands in, libnl routes, and one log
// line with the per-phase times. Exit codes: apply/cleanup 0 ok, 1 failure; verify 0 equal, 1
// drift, 2 trouble.
#pragma once

#include "config/config.h"
#include "kernel/nft_backend.h"
#include "kernel/tables.h"
#include "model/rule.h"

namespace snare {

int apply_rules(const Config& cfg, const Plan& plan, TablesBackend& tables);
int cleanup_rules(const Config& cfg, const Plan& plan, TablesBackend& tables);
int verify_rules(const Config& cfg, const Plan& plan, TablesBackend& tables);

// Native nftables mode (apply/nft_apply.h): `legacy` is read for istio's legacy rules (and
// written only by --reconcile's migration, under the xtables lock).
struct NftBackends {
  NftBackend& nft;
  TablesBackend& legacy;
};
int nft_apply_rules(const Config& cfg, const Plan& plan, NftBackends backends);
int nft_cleanup_rules(const Config& cfg, const Plan& plan, NftBackends backends);
int nft_verify_rules(const Config& cfg, const Plan& plan, NftBackends backends);

}  // namespace snare
