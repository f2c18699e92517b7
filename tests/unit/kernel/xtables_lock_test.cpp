// The xtables lock: path choice, contention between two holders, the timeout message naming the
// holder, and /proc/locks parsing. Contention between processes: tests/root/xtables_lock.sh.
#include "kernel/xtables_lock.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>

using namespace std::chrono_literals;

namespace {

// Sets or unsets XTABLES_LOCKFILE for one test and puts the old value back.
struct LockfileEnv {
  std::optional<std::string> old;
  explicit LockfileEnv(const char* value) {
    if (const char* v = std::getenv("XTABLES_LOCKFILE")) old = v;
    if (value) {
      setenv("XTABLES_LOCKFILE", value, 1);
    } else {
      unsetenv("XTABLES_LOCKFILE");
    }
  }
  ~LockfileEnv() {
    if (old) {
      setenv("XTABLES_LOCKFILE", old->c_str(), 1);
    } else {
      unsetenv("XTABLES_LOCKFILE");
    }
  }
};

std::string temp_dir() {
  char tmpl[] = "/tmp/snare-lock-test-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  return tmpl;
}

}  // namespace

TEST_CASE("lock path: XTABLES_LOCKFILE, then the netns, then /run/xtables.lock", "[lock]") {
  {
    LockfileEnv env(nullptr);
    CHECK(snare::xtables_lock_path("") == "/run/xtables.lock");
    CHECK(snare::xtables_lock_path("/var/run/netns/cni-1") == "/var/run/netns/cni-1");
    CHECK(snare::xtables_lock_path("", 42) == "/proc/42/ns/net");
    CHECK(snare::xtables_lock_path("/var/run/netns/cni-1", 42) == "/var/run/netns/cni-1");
  }
  {
    LockfileEnv env("");
    CHECK(snare::xtables_lock_path("") == "/run/xtables.lock");
  }
  {
    LockfileEnv env("/tmp/alt.lock");
    CHECK(snare::xtables_lock_path("") == "/tmp/alt.lock");
    CHECK(snare::xtables_lock_path("/var/run/netns/cni-1") == "/tmp/alt.lock");
  }
}

TEST_CASE("lock: a second holder times out with the path and holder named", "[lock]") {
  const std::string dir = temp_dir();
  const std::string path = dir + "/sub/xtables.lock";  // the directory is created
  snare::XtablesLock first;
  REQUIRE(first.acquire(path, 0ms).ok());
  CHECK(first.held());
  CHECK(first.waited_ms() < 50);

  snare::XtablesLock second;
  auto s = second.acquire(path, 100ms);
  REQUIRE_FALSE(s.ok());
  CHECK_FALSE(second.held());
  CHECK(s.error.find("is holding the xtables lock " + path + "; stopped waiting after 0.1 s") !=
        std::string::npos);
  CHECK(s.error.find(std::to_string(getpid())) != std::string::npos);  // the holder: us

  first.release();
  REQUIRE(second.acquire(path, 100ms).ok());
  CHECK(second.held());
  std::filesystem::remove_all(dir);
}

TEST_CASE("lock: waits for a release within the timeout and reports the wait", "[lock]") {
  const std::string dir = temp_dir();
  const std::string path = dir + "/xtables.lock";
  auto first = std::make_unique<snare::XtablesLock>();
  REQUIRE(first->acquire(path, 0ms).ok());
  std::thread releaser([&] {
    std::this_thread::sleep_for(60ms);
    first.reset();
  });
  snare::XtablesLock second;
  auto s = second.acquire(path, 5000ms);
  releaser.join();
  REQUIRE(s.ok());
  CHECK(second.waited_ms() >= 50);
  CHECK(second.waited_ms() < 4000);
  std::filesystem::remove_all(dir);
}

TEST_CASE("lock: moving keeps one holder", "[lock]") {
  const std::string dir = temp_dir();
  const std::string path = dir + "/xtables.lock";
  snare::XtablesLock a;
  REQUIRE(a.acquire(path, 0ms).ok());
  snare::XtablesLock b(std::move(a));
  CHECK_FALSE(a.held());  // NOLINT(bugprone-use-after-move): moved-from state is specified
  CHECK(b.held());
  snare::XtablesLock c;
  c = std::move(b);
  CHECK(c.held());
  snare::XtablesLock other;
  CHECK_FALSE(other.acquire(path, 0ms).ok());
  c.release();
  CHECK(other.acquire(path, 0ms).ok());
  std::filesystem::remove_all(dir);
}

TEST_CASE("lock: two names of one network namespace are one lock", "[lock]") {
  // The pod-scoped lock is the nsfs file, so /proc/PID/ns/net and a bind mount exclude each other.
  snare::XtablesLock a, b;
  REQUIRE(a.acquire("/proc/self/ns/net", 0ms).ok());
  CHECK_FALSE(b.acquire("/proc/thread-self/ns/net", 0ms).ok());
}

TEST_CASE("lock: /proc/locks names the holder, not a waiter", "[lock]") {
  const dev_t dev = makedev(0, 4);
  const std::string text =
      "1: POSIX  ADVISORY  WRITE 100 00:04:77 0 EOF\n"
      "2: FLOCK  ADVISORY  WRITE 4341 00:04:4026532177 0 EOF\n"
      "2: -> FLOCK  ADVISORY  WRITE 4400 00:04:4026532177 0 EOF\n"
      "3: FLOCK  ADVISORY  WRITE 555 fd:01:4026532177 0 EOF\n";
  auto pid = snare::flock_holder_from_proc_locks(text, dev, 4026532177);
  REQUIRE(pid);
  CHECK(*pid == 4341);
  CHECK_FALSE(snare::flock_holder_from_proc_locks(text, dev, 77));  // a POSIX lock, not flock
  CHECK_FALSE(snare::flock_holder_from_proc_locks("", dev, 1));
  CHECK(*snare::flock_holder_from_proc_locks(text, makedev(0xfd, 1), 4026532177) == 555);
}
