// The xtables lock (see xtables_lock.h).
#include "kernel/xtables_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "base/clock.h"
#include "base/log.h"

namespace snare {
namespace {

constexpr const char* kDefaultLockPath = "/run/xtables.lock";

SysResult sys_open_lock(const char* path) {
  // O_RDONLY|O_CREAT 0600 as iptables does; flock needs no write access. O_NONBLOCK because an
  // open of a FIFO would otherwise wait for a writer, before the lock's time limit even starts.
  int fd = ::open(path, O_RDONLY | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0600);
  return {fd, fd < 0 ? errno : 0};
}

// What the lock path is, when it is not a regular file (a nsfs file counts as one): flock on a
// FIFO or a device would lock nothing that other iptables users lock.
const char* not_a_regular_file(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) < 0 || S_ISREG(st.st_mode)) return nullptr;
  if (S_ISFIFO(st.st_mode)) return "a FIFO";
  if (S_ISDIR(st.st_mode)) return "a directory";
  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) return "a device";
  return "not a regular file";
}

SysResult sys_flock_nb(int fd) {
  int rc = ::flock(fd, LOCK_EX | LOCK_NB);
  return {rc, rc < 0 ? errno : 0};
}

std::string read_file(const char* path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The holder of the lock on `fd`'s file, as "PID (comm)", or "" when /proc/locks does not say
// (another PID namespace shows the pid as 0 or not at all).
std::string find_holder(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) < 0) return {};
  auto pid = flock_holder_from_proc_locks(read_file("/proc/locks"), st.st_dev, st.st_ino);
  if (!pid || *pid <= 0 || *pid == ::getpid()) {
    // Our own pid shows up only when another descriptor of this process holds it (tests).
    if (pid && *pid == ::getpid()) return describe_pid(*pid) + ", this process";
    return {};
  }
  return describe_pid(*pid);
}

}  // namespace

std::optional<pid_t> flock_holder_from_proc_locks(std::string_view proc_locks, dev_t dev,
                                                  ino_t ino) {
  // "1: FLOCK  ADVISORY  WRITE 4341 00:04:4026532177 0 EOF"; a waiter reads "1: -> FLOCK ...".
  const std::string want = fmt::format("{:02x}:{:02x}:{}", major(dev), minor(dev), ino);
  std::istringstream in{std::string(proc_locks)};
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string id, kind, mode, access, pid, file;
    f >> id >> kind;
    if (kind == "->") continue;
    f >> mode >> access >> pid >> file;
    if (kind != "FLOCK" || file != want) continue;
    char* end = nullptr;
    long v = std::strtol(pid.c_str(), &end, 10);
    if (end && *end == '\0' && !pid.empty()) return static_cast<pid_t>(v);
  }
  return std::nullopt;
}

std::string describe_pid(pid_t pid) {
  std::string comm = read_file(fmt::format("/proc/{}/comm", pid).c_str());
  while (!comm.empty() && (comm.back() == '\n' || comm.back() == ' ')) comm.pop_back();
  return comm.empty() ? fmt::format("{}", pid) : fmt::format("{} ({})", pid, comm);
}

std::string xtables_lock_path(const std::string& network_namespace, int netns_pid) {
  const char* env = std::getenv("XTABLES_LOCKFILE");
  if (env && *env) return env;
  if (!network_namespace.empty()) return network_namespace;
  if (netns_pid > 0) return fmt::format("/proc/{}/ns/net", netns_pid);
  return kDefaultLockPath;
}

std::string xtables_lock_path(const std::string& network_namespace) {
  return xtables_lock_path(network_namespace, 0);
}

XtablesLock::~XtablesLock() { release(); }

std::string nft_apply_lock_path() {
  struct stat st {};
  if (::stat("/proc/thread-self/ns/net", &st) < 0 && ::stat("/proc/self/ns/net", &st) < 0)
    return "/run/snare/nftables.lock";  // no /proc: one lock for the host, still correct
  return fmt::format("/run/snare/nftables-netns-{}-{}.lock", static_cast<unsigned long>(st.st_dev),
                     static_cast<unsigned long>(st.st_ino));
}

XtablesLock::XtablesLock(XtablesLock&& other) noexcept
    : fd_(other.fd_),
      waited_ms_(other.waited_ms_),
      path_(std::move(other.path_)),
      what_(std::move(other.what_)) {
  other.fd_ = -1;
}

XtablesLock& XtablesLock::operator=(XtablesLock&& other) noexcept {
  if (this != &other) {
    release();
    fd_ = other.fd_;
    waited_ms_ = other.waited_ms_;
    path_ = std::move(other.path_);
    what_ = std::move(other.what_);
    other.fd_ = -1;
  }
  return *this;
}

void XtablesLock::release() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor drops the flock
  fd_ = -1;
}

Status XtablesLock::acquire(const std::string& path, std::chrono::milliseconds timeout) {
  release();
  path_ = path;
  waited_ms_ = 0;

  SysResult fd = sys_open_lock(path.c_str());
  if (!fd.ok() && fd.err == ENOENT) {
    std::error_code ec;
    auto dir = std::filesystem::path(path).parent_path();
    if (!dir.empty()) std::filesystem::create_directories(dir, ec);
    fd = sys_open_lock(path.c_str());
  }
  if (!fd.ok()) {
    return Status::Fail(
        fmt::format("cannot open the {} file {}: {}{}", what_, path, errno_text(fd.err),
                    what_ == "xtables lock" ? " (set XTABLES_LOCKFILE to a writable path)"
                                            : " (make its directory writable for root)"));
  }
  const int lock_fd = static_cast<int>(fd.rc);
  if (const char* kind = not_a_regular_file(lock_fd)) {
    ::close(lock_fd);
    return Status::Fail(fmt::format(
        "the xtables lock file {} is {}, not a regular file: set XTABLES_LOCKFILE to a regular "
        "file's path (or unset it for /run/xtables.lock)",
        path, kind));
  }

  const auto start = Clock::now();
  const auto deadline = start + timeout;
  auto pause = std::chrono::microseconds(200);
  std::string holder;
  bool waited = false;
  for (;;) {
    SysResult rc = sys_flock_nb(lock_fd);
    if (rc.ok()) break;
    if (rc.err == EINTR) continue;
    if (rc.err != EWOULDBLOCK) {
      ::close(lock_fd);
      return Status::Fail(
          fmt::format("cannot lock the {} {}: {}", what_, path, errno_text(rc.err)));
    }
    if (!waited) {
      waited = true;
      holder = find_holder(lock_fd);  // once: the first holder is the one worth naming
    }
    const auto now = Clock::now();
    if (now >= deadline) {
      ::close(lock_fd);
      const double ms = ms_between(start, now);
      return Status::Fail(
          fmt::format("another process{} is holding the {} {}; stopped waiting after {:.1f} s",
                      holder.empty() ? "" : " (" + holder + ")", what_, path, ms / 1000.0));
    }
    std::this_thread::sleep_for(std::min<Clock::duration>(
        pause, std::chrono::duration_cast<Clock::duration>(deadline - now)));
    pause = std::min(pause * 2, std::chrono::microseconds(20000));
  }
  fd_ = lock_fd;
  waited_ms_ = ms_since(start);
  if (waited) {
    log_info("waited {:.1f} ms for the {} {}{}", waited_ms_, what_, path,
             holder.empty() ? "" : ", held by " + holder);
  }
  return Status::Ok();
}

}  // namespace snare
