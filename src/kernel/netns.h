// Network namespaces: entering the pod's namespace in-process, and telling the host's apart.
//
// snare programs "the current network namespace". The main gets there in one of three ways: it
// already runs in it (istio-init container, `nsenter -n -t PID snare ...`), or it enters it itself
// with --network-namespace PATH or --netns-pid PID (istio's --network-namespace only names the
// xtables lock; snare also enters it, see enter_netns).
//
// Because a mistake in the host's initial namespace can cut a node off the network, the apply
// refuses to run there unless --allow-host-netns says it is meant (istio's VM mode).
#pragma once

#include <string>

#include "base/status.h"

namespace snare {

// Moves the calling thread into the network namespace named by `path` (a bind mount such as
// /var/run/netns/cni-..., or /proc/PID/ns/net), or `/proc/<pid>/ns/net` when `pid` > 0. At most
// one of the two may be given; with neither it does nothing and succeeds.
//
// Call it before any libiptc handle, libnl socket, nftables socket or raw socket is opened:
// every socket is bound to the namespace that is current *when it is created* and keeps it
// afterwards, so a handle opened first would silently program the caller's namespace. setns
// changes only the calling thread: call it from the thread that does all the work (in snare,
// the main thread before any other thread exists). The mount namespace is not changed, so paths
// (the lock file, /etc) still resolve as before. Needs CAP_SYS_ADMIN.
Status enter_netns(const std::string& path, int pid);

enum class NetnsKind { initial, other, unknown };
const char* netns_kind_name(NetnsKind k);  // "initial", "other", "unknown"

// Whether the calling thread's network namespace is the host's initial one.
//
// Not by comparing with PID 1: inside a container PID 1 is the container's own process and shares
// the pod's namespace, so that comparison would refuse every init container. Instead:
//   1. since Linux 6.18 the initial namespace has the fixed nsfs inode PROC_NET_INIT_INO
//      (0xEFFFFFF9); dynamically numbered namespaces get inodes from 0xF0000000 up, so that number
//      cannot be anybody else's. Equal: initial; on 6.18 or later, different: other.
//   2. before 6.18, compare (device, inode) with the namespace of kthreadd (PID 2, checked to be
//      a kernel thread: in a container's PID namespace PID 2 is an ordinary process), which
//      always lives in the initial namespace. Readable: initial or other.
//   3. otherwise unknown (an older kernel seen from inside a PID namespace).
NetnsKind current_netns_kind();

// The namespace identity of the calling thread: nsfs (device, inode) of /proc/thread-self/ns/net.
struct NetnsId {
  unsigned long dev = 0;
  unsigned long ino = 0;
};
Status current_netns_id(NetnsId& id);

// Refuses the host's initial namespace unless `allow_host`. An unknown answer is let through with
// a warning: refusing would break every init container on older kernels, where it is common.
Status check_not_host_netns(bool allow_host);
Status check_not_host_netns(NetnsKind kind, bool allow_host);  // the decision alone, for tests

}  // namespace snare
