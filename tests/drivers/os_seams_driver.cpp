// os_seams_driver: runs one OS seam of snare (netns, xtables lock, TPROXY routes, nftables
// detection, capabilities) from the command line, for the root tests in tests/root/ that need them
// before the snare binary reaches them. Not installed.
//
//   os_seams_driver [--netns PATH | --pid PID] COMMAND [ARGS]
//     netns-id                      print "<dev>:<ino>" of the current network namespace
//     kind                          print initial | other | unknown
//     check-host [allow]            check_not_host_netns
//     lock-path [NETNS]             xtables_lock_path
//     lock PATH TIMEOUT_MS HOLD_MS  acquire, print "acquired waited_ms=N", hold, release
//     routes-add v4|v6 MARK TABLE   print "rule=0|1 route=0|1"
//     routes-del v4|v6 MARK TABLE
//     addr-add                      print "created=0|1"
//     addr-del
//     nft                           print "has=0|1" and the description on a second line
//     caps                          check_net_admin
// Errors go to stderr with exit status 1; bad usage exits 2.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "base/log.h"
#include "kernel/netns.h"
#include "kernel/nft_detect.h"
#include "kernel/privileges.h"
#include "kernel/routes.h"
#include "kernel/xtables_lock.h"

namespace {

int usage() {
  std::fprintf(stderr, "usage: os_seams_driver [--netns PATH | --pid PID] COMMAND [ARGS]\n");
  return 2;
}

int done(const snare::Status& s) {
  if (s.ok()) return 0;
  std::fprintf(stderr, "error: %s\n", s.error.c_str());
  return 1;
}

bool parse_family(const std::string& s, snare::Family& f) {
  if (s == "v4")
    f = snare::Family::v4;
  else if (s == "v6")
    f = snare::Family::v6;
  else
    return false;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  snare::log_configure(snare::LogLevel::info, false);
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string path;
  int pid = 0;
  size_t i = 0;
  while (i + 1 < args.size() && (args[i] == "--netns" || args[i] == "--pid")) {
    if (args[i] == "--netns")
      path = args[i + 1];
    else
      pid = std::atoi(args[i + 1].c_str());
    i += 2;
  }
  if (i >= args.size()) return usage();
  if (snare::Status s = snare::enter_netns(path, pid); !s.ok()) return done(s);
  const std::string cmd = args[i];
  std::vector<std::string> rest(args.begin() + static_cast<long>(i) + 1, args.end());

  if (cmd == "netns-id") {
    snare::NetnsId id;
    if (auto s = snare::current_netns_id(id); !s.ok()) return done(s);
    std::printf("%lu:%lu\n", id.dev, id.ino);
    return 0;
  }
  if (cmd == "kind") {
    std::printf("%s\n", snare::netns_kind_name(snare::current_netns_kind()));
    return 0;
  }
  if (cmd == "check-host") {
    return done(snare::check_not_host_netns(!rest.empty() && rest[0] == "allow"));
  }
  if (cmd == "lock-path") {
    std::printf("%s\n", snare::xtables_lock_path(rest.empty() ? "" : rest[0], pid).c_str());
    return 0;
  }
  if (cmd == "lock" && rest.size() == 3) {
    snare::XtablesLock lock;
    auto s = lock.acquire(rest[0], std::chrono::milliseconds(std::atoi(rest[1].c_str())));
    if (!s.ok()) return done(s);
    std::printf("acquired waited_ms=%.1f\n", lock.waited_ms());
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::milliseconds(std::atoi(rest[2].c_str())));
    return 0;
  }
  if ((cmd == "routes-add" || cmd == "routes-del") && rest.size() == 3) {
    snare::Family f;
    if (!parse_family(rest[0], f)) return usage();
    auto mark = static_cast<uint32_t>(std::strtoul(rest[1].c_str(), nullptr, 0));
    auto table = static_cast<uint32_t>(std::strtoul(rest[2].c_str(), nullptr, 0));
    auto ops = snare::make_netlink_route_ops();
    if (cmd == "routes-del") return done(ops->del_tproxy_routes(f, {mark, table}, {true, true}));
    snare::RouteOps::Added created;
    auto s = ops->add_tproxy_routes(f, {mark, table}, created);
    std::printf("rule=%d route=%d\n", created.rule ? 1 : 0, created.route ? 1 : 0);
    return done(s);
  }
  if (cmd == "addr-add" || cmd == "addr-del") {
    auto ops = snare::make_netlink_route_ops();
    if (cmd == "addr-del") return done(ops->del_passthrough_addr());
    bool created = false;
    auto s = ops->add_passthrough_addr(created);
    std::printf("created=%d\n", created ? 1 : 0);
    return done(s);
  }
  if (cmd == "nft") {
    bool has = false;
    std::string what;
    auto s = snare::detect_nftables(has, what);
    if (!s.ok()) return done(s);
    std::printf("has=%d\n%s\n", has ? 1 : 0, what.c_str());
    return 0;
  }
  if (cmd == "caps") return done(snare::check_net_admin());
  return usage();
}
