// Privilege: becoming the proxy identity (uid/gid 1337) after the sockets are bound.
//
// istio's rules exclude the proxy's uid from capture, so the proxy's own upstream connections must
// be made as that uid or they loop back to it. Binding IP_TRANSPARENT listeners needs
// CAP_NET_ADMIN, and so does anything transparent later; every other capability is dropped.
// Capabilities are per thread: this runs before any thread is started, and threads inherit it.
#pragma once

#include <sys/types.h>

#include "base/status.h"

namespace snare::proxy {

struct DropResult {
  bool dropped = false;  // false: not root, nothing to do
};

// As root: setgroups({gid}), setresgid, setresuid, keeping CAP_NET_ADMIN when `keep_net_admin`.
// Not root: nothing (the caller is already whoever it will be).
Status drop_privileges(uid_t uid, gid_t gid, bool keep_net_admin, DropResult* out);

}  // namespace snare::proxy
