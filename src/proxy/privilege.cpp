// Privilege drop with prctl/capset, without libcap (see privilege.h).
#include "proxy/privilege.h"

#include <fmt/format.h>
#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace snare::proxy {
namespace {

int capset_raw(uint32_t effective_permitted) {
  __user_cap_header_struct hdr{};
  hdr.version = _LINUX_CAPABILITY_VERSION_3;
  hdr.pid = 0;
  __user_cap_data_struct data[2] = {};
  data[0].effective = effective_permitted;
  data[0].permitted = effective_permitted;
  return static_cast<int>(::syscall(SYS_capset, &hdr, data));
}

}  // namespace

Status drop_privileges(uid_t uid, gid_t gid, bool keep_net_admin, DropResult* out) {
  *out = DropResult{};
  if (::geteuid() != 0) return Status::Ok();
  if (uid == 0) return Status::Ok();  // asked to stay root: nothing to drop to
  auto fail = [](const char* what, uid_t u) {
    return Status::Fail(fmt::format("drop privileges to {}: {}: {}", u, what, errno_text(errno)));
  };
  // Why: setresuid from 0 to non-zero clears the permitted set unless KEEPCAPS is on.
  if (keep_net_admin && ::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    return fail("PR_SET_KEEPCAPS", uid);
  if (::setgroups(1, &gid) < 0) return fail("setgroups", uid);
  if (::setresgid(gid, gid, gid) < 0) return fail("setresgid", uid);
  if (::setresuid(uid, uid, uid) < 0) return fail("setresuid", uid);
  const uint32_t keep = keep_net_admin ? (1u << CAP_NET_ADMIN) : 0;
  if (capset_raw(keep) < 0) return fail("capset", uid);
  if (keep_net_admin) ::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
  // No way back: a setuid binary exec'd later gains nothing either.
  ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  out->dropped = true;
  return Status::Ok();
}

}  // namespace snare::proxy
