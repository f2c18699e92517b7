// The xtables lock: the flock that serialises every legacy iptables writer on a host.
//
// iptables-legacy, iptables-legacy-restore, kube-proxy and CNI plugins all take an exclusive
// flock on one file (iptables/xshared.c xtables_lock()) around their read-modify-commit of a
// table; libiptc itself never locks. snare takes the same lock, from before its first table read
// to its last commit, so that no concurrent writer's change is lost (libiptc's EAGAIN only catches
// a changed entry count). The lock is a file, so it follows the mount namespace, not the network
// namespace: see xtables_lock_path for which file.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace snare {

// Which file to lock, the way istio would choose it:
//   1. $XTABLES_LOCKFILE when set and not empty (iptables honours it since 1.8.6);
//   2. with a network namespace given (`--network-namespace PATH`): PATH itself. This is istio's
//      CNI-mode pod-scoped lock (it runs iptables with XTABLES_LOCKFILE=<netns path>), so snare and
//      an istio-cni for the same pod exclude each other, while nothing else on the host (kube-
//      proxy, the primary CNI on /run/xtables.lock) makes a pod wait. flock works on the nsfs
//      file, and no file is left behind.
//      With only `--netns-pid PID` (no path) it is /proc/PID/ns/net: the same nsfs inode as any
//      bind mount of that namespace, so the lock is still per pod (use netns_pid for that).
//   3. otherwise /run/xtables.lock, the compiled-in default of iptables.
std::string xtables_lock_path(const std::string& network_namespace);
std::string xtables_lock_path(const std::string& network_namespace, int netns_pid);

// The lock of native nftables mode: /run/snare/nftables-netns-DEV-INO.lock, where DEV and INO
// identify the calling thread's network namespace (its nsfs inode, as /proc/thread-self/ns/net
// shows it; call after enter_netns). nftables transactions are atomic, but an apply is a read, a
// transaction and route changes: two applies into one namespace at once would each delete only the
// tables it read and so leave a mix, and a rollback could erase the other's commit. Per namespace,
// so that pods never wait for each other; a file of its own, so that it never is the file the
// xtables lock takes (with --network-namespace that is the namespace file itself).
std::string nft_apply_lock_path();

class XtablesLock {
 public:
  XtablesLock() = default;
  // `what` names the lock in logs and errors ("nftables apply lock"); default "xtables lock".
  explicit XtablesLock(std::string what) : what_(std::move(what)) {}
  ~XtablesLock();
  XtablesLock(XtablesLock&& other) noexcept;
  XtablesLock& operator=(XtablesLock&& other) noexcept;
  XtablesLock(const XtablesLock&) = delete;
  XtablesLock& operator=(const XtablesLock&) = delete;

  // Opens (creating it, and its directory, when missing) and flocks `path` exclusively, polling
  // until `timeout` has passed (0: one try). Polls instead of iptables' alarm() around a blocking
  // flock, which is unsafe in a program that may have threads. When it had to wait it logs how
  // long and, when /proc/locks names it, which process held the lock; on timeout the error says
  // the same.
  Status acquire(const std::string& path, std::chrono::milliseconds timeout);
  void release();  // also done by the destructor

  bool held() const { return fd_ >= 0; }
  double waited_ms() const { return waited_ms_; }
  const std::string& path() const { return path_; }

 private:
  int fd_ = -1;
  double waited_ms_ = 0;
  std::string path_;
  std::string what_ = "xtables lock";
};

// The process holding an flock on the file (device, inode) according to the text of /proc/locks,
// ignoring waiters ("->" lines). Exposed for tests.
std::optional<pid_t> flock_holder_from_proc_locks(std::string_view proc_locks, dev_t dev,
                                                  ino_t ino);
// "PID (comm)" for a log line, or "PID" when the command name is unreadable.
std::string describe_pid(pid_t pid);

}  // namespace snare
