// Privileges: whether this process may program netfilter at all, asked before anything is opened.
//
// Writing iptables tables and routes needs CAP_NET_ADMIN in the user namespace that owns the
// network namespace; libiptc's raw socket also needs CAP_NET_RAW. Asking the kernel up front turns
// a late "Permission denied" from the first commit into a sentence that says what to change.
#pragma once

#include <cstdint>

#include "base/status.h"

namespace snare {

// The effective capability set of the calling thread, as capget(2) reports it (64 bits).
struct CapSet {
  uint64_t effective = 0;
  bool has(int cap) const { return cap >= 0 && cap < 64 && ((effective >> cap) & 1U) != 0; }
};
Status read_caps(CapSet& caps);

// Fails with "snare needs CAP_NET_ADMIN in the pod's network namespace: run as root, or add
// NET_ADMIN (and NET_RAW) to the init container's capabilities" when CAP_NET_ADMIN is not
// effective, and names NET_RAW alone when only that one is missing.
Status check_net_admin();
Status check_net_admin(const CapSet& caps);  // the decision alone, for tests

}  // namespace snare
