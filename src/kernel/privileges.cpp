// Privileges: capget without libcap (see privileges.h).
#include "kernel/privileges.h"

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace snare {
namespace {

// glibc has no capget wrapper declaration; the raw syscall is what libcap calls too.
SysResult sys_capget(__user_cap_header_struct* hdr, __user_cap_data_struct* data) {
  long rc = ::syscall(SYS_capget, hdr, data);
  return {rc, rc < 0 ? errno : 0};
}

}  // namespace

Status read_caps(CapSet& caps) {
  __user_cap_header_struct hdr{};
  hdr.version = _LINUX_CAPABILITY_VERSION_3;
  hdr.pid = 0;  // the calling thread
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
  SysResult rc = sys_capget(&hdr, data);
  if (!rc.ok()) return Status::Fail("cannot read capabilities (capget): " + errno_text(rc.err));
  caps.effective =
      static_cast<uint64_t>(data[0].effective) | (static_cast<uint64_t>(data[1].effective) << 32);
  return Status::Ok();
}

Status check_net_admin(const CapSet& caps) {
  if (!caps.has(CAP_NET_ADMIN)) {
    return Status::Fail(
        "snare needs CAP_NET_ADMIN in the pod's network namespace: run as root, or add NET_ADMIN "
        "(and NET_RAW) to the init container's capabilities");
  }
  if (!caps.has(CAP_NET_RAW)) {
    return Status::Fail(
        "snare needs CAP_NET_RAW (libiptc talks to the kernel over a raw socket): add NET_RAW to "
        "the init container's capabilities next to NET_ADMIN");
  }
  return Status::Ok();
}

Status check_net_admin() {
  CapSet caps;
  Status s = read_caps(caps);
  if (!s.ok()) return s;
  return check_net_admin(caps);
}

}  // namespace snare
