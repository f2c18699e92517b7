// Network namespaces: setns by path or PID, and detection of the host's initial namespace.
#include "kernel/netns.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "base/log.h"

namespace snare {
namespace {

// The fixed inode of the initial network namespace (include/linux/proc_ns.h, Linux 6.18+).
constexpr unsigned long kProcNetInitIno = 0xEFFFFFF9UL;
// Kernel threads carry PF_KTHREAD in the flags field of /proc/PID/stat (include/linux/sched.h).
constexpr unsigned long kPfKthread = 0x00200000UL;

SysResult sys_open(const char* path, int flags) {
  int fd = ::open(path, flags);
  return {fd, fd < 0 ? errno : 0};
}

SysResult sys_setns(int fd, int nstype) {
  int rc = ::setns(fd, nstype);
  return {rc, rc < 0 ? errno : 0};
}

SysResult sys_stat_nsfs(const char* path, struct stat& st) {
  struct statfs fs {};
  if (::statfs(path, &fs) < 0) return {-1, errno};
  if (static_cast<unsigned long>(fs.f_type) != NSFS_MAGIC) return {-1, EINVAL};
  if (::stat(path, &st) < 0) return {-1, errno};
  return {0, 0};
}

// Is PID 2 kthreadd, the kernel thread that lives in the initial namespaces? In a PID namespace it
// is some container process instead, whose namespace proves nothing.
bool pid2_is_kernel_thread() {
  std::ifstream in("/proc/2/stat");
  std::string line;
  if (!std::getline(in, line)) return false;
  // "2 (kthreadd) S 0 0 0 0 -1 2129984 ...": fields after the command name, which may hold spaces.
  auto close = line.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream rest(line.substr(close + 1));
  std::string state;
  long ppid = -1;
  unsigned long flags = 0;
  long skip = 0;
  rest >> state >> ppid;
  for (int i = 0; i < 4; ++i) rest >> skip;  // pgrp session tty_nr tpgid
  rest >> flags;
  return rest && ppid == 0 && (flags & kPfKthread) != 0;
}

// Kernel release as major*1000 + minor, 0 when unreadable.
int kernel_version() {
  utsname u{};
  if (::uname(&u) < 0) return 0;
  int major = 0, minor = 0;
  if (std::sscanf(u.release, "%d.%d", &major, &minor) != 2) return 0;
  return major * 1000 + minor;
}

std::string open_hint() {
  return "pass the pod's netns path (/var/run/netns/... or /proc/PID/ns/net) or the PID of a "
         "process in the pod";
}

}  // namespace

const char* netns_kind_name(NetnsKind k) {
  switch (k) {
    case NetnsKind::initial:
      return "initial";
    case NetnsKind::other:
      return "other";
    case NetnsKind::unknown:
      return "unknown";
  }
  return "unknown";
}

Status enter_netns(const std::string& path, int pid) {
  if (!path.empty() && pid > 0) {
    return Status::Fail(fmt::format(
        "--network-namespace {} and --netns-pid {} both given: pass only one", path, pid));
  }
  if (path.empty() && pid <= 0) return Status::Ok();

  const std::string file = pid > 0 ? fmt::format("/proc/{}/ns/net", pid) : path;
  const std::string what = pid > 0
                               ? fmt::format("the network namespace of process {} ({})", pid, file)
                               : fmt::format("network namespace {}", path);

  SysResult fd = sys_open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (!fd.ok()) {
    if (fd.err == ENOENT && pid > 0) {
      return Status::Fail(
          fmt::format("process {} does not exist (no {}): {}", pid, file, open_hint()));
    }
    if (fd.err == ENOENT) {
      return Status::Fail(fmt::format("{} does not exist: {}", what, open_hint()));
    }
    if (fd.err == EACCES || fd.err == EPERM) {
      return Status::Fail(
          fmt::format("cannot open {}: {}: run snare as root (CAP_SYS_ADMIN and "
                      "CAP_SYS_PTRACE for another process's namespace)",
                      what, errno_text(fd.err)));
    }
    return Status::Fail(fmt::format("cannot open {}: {}", what, errno_text(fd.err)));
  }
  const int nsfd = static_cast<int>(fd.rc);

  // A path that exists but is not a network namespace (a typo naming a regular file, a mount
  // namespace...) is told apart here, with words, rather than by setns' bare EINVAL.
  int type = ::ioctl(nsfd, NS_GET_NSTYPE);
  if (type < 0 || type != CLONE_NEWNET) {
    ::close(nsfd);
    return Status::Fail(fmt::format("{} is not a network namespace: {}", file, open_hint()));
  }

  SysResult rc = sys_setns(nsfd, CLONE_NEWNET);
  ::close(nsfd);  // the thread holds the namespace now; the fd is no longer needed
  if (!rc.ok()) {
    if (rc.err == EPERM) {
      return Status::Fail(fmt::format(
          "cannot enter {}: {}: entering a namespace needs CAP_SYS_ADMIN: run snare as root, or "
          "run it inside the pod's namespace (init container, nsenter -n -t PID) without "
          "--network-namespace/--netns-pid",
          what, errno_text(rc.err)));
    }
    return Status::Fail(fmt::format("cannot enter {}: {}", what, errno_text(rc.err)));
  }
  log_debug("entered {}", what);
  return Status::Ok();
}

Status current_netns_id(NetnsId& id) {
  struct stat st {};
  // thread-self, not self: /proc/self/ns shows the thread-group leader, and setns is per thread.
  SysResult rc = sys_stat_nsfs("/proc/thread-self/ns/net", st);
  if (!rc.ok()) {
    return Status::Fail(
        fmt::format("cannot read /proc/thread-self/ns/net: {}", errno_text(rc.err)));
  }
  id.dev = st.st_dev;
  id.ino = st.st_ino;
  return Status::Ok();
}

NetnsKind current_netns_kind() {
  NetnsId self;
  if (!current_netns_id(self).ok()) return NetnsKind::unknown;
  if (self.ino == kProcNetInitIno) return NetnsKind::initial;
  // Since 6.18 the initial namespace's inode is fixed, so any other inode is another namespace.
  if (kernel_version() >= 6018) return NetnsKind::other;
  if (pid2_is_kernel_thread()) {
    struct stat st {};
    if (sys_stat_nsfs("/proc/2/ns/net", st).ok())
      return st.st_dev == self.dev && st.st_ino == self.ino ? NetnsKind::initial : NetnsKind::other;
  }
  return NetnsKind::unknown;
}

Status check_not_host_netns(NetnsKind kind, bool allow_host) {
  switch (kind) {
    case NetnsKind::other:
      return Status::Ok();
    case NetnsKind::initial:
      if (allow_host) {
        log_info("programming the host's initial network namespace (--allow-host-netns)");
        return Status::Ok();
      }
      return Status::Fail(
          "refusing to program the host's initial network namespace, where a wrong rule cuts the "
          "node off: run snare in the pod's network namespace, or pass --network-namespace PATH "
          "or --netns-pid PID, or pass --allow-host-netns when the host is meant (istio VM mode)");
    case NetnsKind::unknown:
      log_warn(
          "cannot tell whether this is the host's initial network namespace (kernel before 6.18 "
          "and PID 2 not visible); going on");
      return Status::Ok();
  }
  return Status::Ok();
}

Status check_not_host_netns(bool allow_host) {
  return check_not_host_netns(current_netns_kind(), allow_host);
}

}  // namespace snare
