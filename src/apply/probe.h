// `snare ambient-host probe add|del` (config/probe_flags.h): one pod's membership of the node's
// probe sets, in either backend: the ipsets over IpsetOps (iptables mode), the sets of inet
// istio-ambient-nat through NftBackend (nftables mode).
//
// Semantics (istio-cni's agent, with its iptables backend's answer where its two backends
// differ): add puts the IP in its family's set with the pod's UID as the member's comment, and a
// member already there takes the new UID (ipset's `add -exist` does; istio's nftables backend
// keeps the old one, so that a later del of the pod that reused the IP is refused and the old
// pod's del removes the new pod's member). del removes the member only when its comment is this
// UID; held by another UID, it stays and the message names that UID. A missing set is a failure
// (`snare ambient-host` creates the sets); nothing else is touched.
#pragma once

#include <string>

#include "base/status.h"
#include "config/probe_flags.h"
#include "kernel/ipset.h"
#include "kernel/nft_backend.h"

namespace snare {

// `said`: what was done, one sentence (for the log line).
Status probe_ipsets(const ProbeRequest& req, IpsetOps& ipsets, std::string& said);
Status probe_nft(const ProbeRequest& req, NftBackend& nft, std::string& said);

}  // namespace snare
