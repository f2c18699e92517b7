// istio's rules written through iptables-nft: on a node whose `iptables` is iptables-nft,
// istio-iptables (without --native-nftables) puts its ISTIO_* chains, and the jumps to them, into
// nf_tables' `ip`/`ip6` `nat`/`mangle`/`raw` tables. They capture like the legacy ones, so every
// rule command treats them as istio's earlier state: the nftables apply refuses them by name or,
// with --reconcile, removes them in its own transaction (all or nothing); verify shows them as
// drift; clean (either mode) removes them.
//
// Ownership, as for the legacy tables (apply/reconcile.h): every chain named ISTIO_* and every
// rule of another chain that jumps or goes to one. Everything else in those tables is foreign and
// stays, istio's jump-less rules included (`-i NIC -j RETURN`, the TPROXY CONNMARK rules): without
// their ISTIO_* chains they capture nothing. Read through NftBackend (libnftables' JSON listing,
// which shows iptables-nft's rules with their jump verdicts and handles); removed by handle.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "kernel/nft_backend.h"
#include "model/netlink_form.h"

namespace snare {

struct XtIstio {
  std::vector<std::string> found;  // "ip nat (ISTIO_INBOUND, ISTIO_OUTPUT)"
  NlBatch removal;                 // the jumps by handle, then the chains, emptied, then deleted
  std::string drift;               // verify's lines for them (the caller puts a heading above)
  bool empty() const { return found.empty(); }
};

// Reads the namespace's ip/ip6 nat, mangle and raw tables for istio's chains and jumps.
Status read_xt_istio(NftBackend& nft, XtIstio& out);

// iptables mode's verify: istio's chains in iptables-nft's tables, as drift lines under one saying
// what they are and what to run, appended to `diff`. Reading them needs libnftables once those
// tables exist; when it cannot be loaded (an image without it) nothing is added and `not_checked`
// says why, so the caller can say in a log line that they were not checked.
Status xt_istio_drift(NftBackend& nft, std::string& diff, std::string& not_checked);

// The same from one table's JSON listing (`list table ip nat`), appended to `out`; for tests.
Status xt_istio_from_listing(const std::string& family, const std::string& table,
                             const std::string& json, XtIstio& out);

}  // namespace snare
