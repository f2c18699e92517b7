// Proxy process lifecycle (see proxy.h).
#include "proxy/proxy.h"

#include <fmt/format.h>
#include <signal.h>
#include <sys/resource.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "base/log.h"
#include "proxy/listener.h"
#include "proxy/loop_guard.h"
#include "proxy/privilege.h"
#include "proxy/stats.h"
#include "proxy/worker.h"

namespace snare::proxy {
namespace {

bool kernel_has_ipv6() {
  int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

// The fd budget: raise the soft limit to the hard one and return it.
rlim_t raise_nofile() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) < 0) return 1024;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
  return rl.rlim_cur;
}

}  // namespace

int run_proxy(const ProxyOptions& o) {
  log_configure(o.log_level, o.log_as_json);
  // A peer that went away must be an EPIPE from splice/send, not a process-killing signal.
  ::signal(SIGPIPE, SIG_IGN);

  const bool v6 =
      o.ipv6 == FamilyMode::on || (o.ipv6 == FamilyMode::automatic && kernel_has_ipv6());
  const rlim_t nofile = raise_nofile();
  const int workers = o.workers;
  // Each connection costs 2 fds; keep room for the pipe pools, listeners and the stats endpoint.
  const rlim_t reserve = 64 + static_cast<rlim_t>(workers) * (2 * 64 + 8);
  size_t max_conns = nofile > reserve ? (nofile - reserve) / 2 : 16;
  if (o.max_connections > 0)
    max_conns = std::min(max_conns, static_cast<size_t>(o.max_connections));
  const size_t per_worker = std::max<size_t>(1, max_conns / static_cast<size_t>(workers));

  WorkerConfig wc;
  wc.connect_timeout = o.connect_timeout;
  wc.idle_timeout = o.idle_timeout;
  wc.drain_timeout = o.drain_timeout;
  wc.splice = o.splice;
  wc.pipe_size = o.pipe_size;
  wc.max_connections = per_worker;
  wc.access_log = o.access_log;
  if (o.outbound_port != 0) wc.own_ports.push_back(o.outbound_port);
  if (o.inbound_port != 0) wc.own_ports.push_back(o.inbound_port);
  wc.inbound_source_v4 = *SockAddr::parse_ip(o.inbound_source_v4);
  wc.inbound_source_v6 = *SockAddr::parse_ip(o.inbound_source_v6);

  // Listeners first, while still root (IP_TRANSPARENT needs CAP_NET_ADMIN).
  std::vector<ListenerSpec> specs;
  auto add = [&](const std::string& ip, uint16_t port, Direction dir) {
    if (port == 0) return;
    ListenerSpec s;
    s.addr = *SockAddr::parse_ip(ip, port);
    s.direction = dir;
    s.transparent = dir == Direction::inbound && o.inbound_transparent;
    s.reuseport = workers > 1;
    specs.push_back(s);
  };
  add(o.bind_v4, o.outbound_port, Direction::outbound);
  add(o.bind_v4, o.inbound_port, Direction::inbound);
  if (v6) {
    add(o.bind_v6, o.outbound_port, Direction::outbound);
    add(o.bind_v6, o.inbound_port, Direction::inbound);
  }
  if (specs.empty()) {
    log_error("snare proxy: nothing to listen on (--outbound-port and --inbound-port are both 0)");
    return 1;
  }
  std::vector<std::vector<Listener>> per_worker_listeners(static_cast<size_t>(workers));
  for (auto& ls : per_worker_listeners) {
    for (const ListenerSpec& s : specs) {
      Listener l;
      std::string warning;
      Status st = open_listener(real_sys(), s, &l, &warning);
      if (!st.ok()) {
        log_error("snare proxy: {}", st.error);
        for (auto& v : per_worker_listeners) {
          for (Listener& x : v) ::close(x.fd);
        }
        return 1;
      }
      if (!warning.empty() && &ls == &per_worker_listeners.front()) log_warn("{}", warning);
      ls.push_back(l);
    }
  }
  StatsServer stats_server;
  if (o.stats_port != 0) {
    Status st = stats_server.open(o.stats_port);
    if (!st.ok()) {
      log_error("snare proxy: {}", st.error);
      return 1;
    }
  }

  DropResult dr;
  Status st = drop_privileges(o.uid, o.gid, true, &dr);
  if (!st.ok()) {
    log_error("snare proxy: {}", st.error);
    return 1;
  }
  if (dr.dropped) {
    log_info("running as uid {} gid {} with CAP_NET_ADMIN only", o.uid, o.gid);
  } else if (::geteuid() == 0) {
    log_warn(
        "running as root (--uid 0): rules that exclude only the proxy's uid will capture this "
        "proxy's own connections");
  }

  // Workers inherit this mask: signals are taken by sigtimedwait below, on this thread only.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  LoopGuard guard;
  std::vector<std::unique_ptr<Worker>> ws;
  for (int i = 0; i < workers; ++i) {
    ws.push_back(std::make_unique<Worker>(i, wc, &guard));
    Status init = ws.back()->init(std::move(per_worker_listeners[static_cast<size_t>(i)]));
    if (!init.ok()) {
      log_error("snare proxy: {}", init.error);
      return 1;
    }
  }
  std::atomic<int> running{workers};
  std::vector<std::thread> threads;
  for (auto& w : ws) {
    threads.emplace_back([&running, wp = w.get()] {
      wp->run();
      running.fetch_sub(1);
    });
  }
  std::vector<const WorkerStats*> stat_blocks;
  for (auto& w : ws) stat_blocks.push_back(&w->stats());
  stats_server.start(stat_blocks);

  std::string where;
  for (const ListenerSpec& s : specs) {
    where += fmt::format("{}{} {}{}", where.empty() ? "" : ", ", direction_name(s.direction),
                         s.addr.str(), s.transparent ? " (transparent)" : "");
  }
  log_line(LogLevel::info, "proxy listening",
           {{"listeners", where},
            {"workers", std::to_string(workers)},
            {"max_connections", std::to_string(per_worker * static_cast<size_t>(workers))},
            {"stats_port", std::to_string(o.stats_port)}});

  int signals = 0;
  while (running.load() > 0) {
    timespec ts{0, 100 * 1000 * 1000};
    int sig = sigtimedwait(&sigs, nullptr, &ts);
    if (sig <= 0) continue;
    ++signals;
    if (signals == 1) {
      log_info("signal {}: draining for up to {} ms", sig, o.drain_timeout.count());
      for (auto& w : ws) w->drain();
    } else {
      log_info("signal {} again: closing now", sig);
      for (auto& w : ws) w->stop_now();
    }
  }
  for (auto& t : threads) t.join();
  stats_server.stop();
  log_info("proxy stopped");
  return 0;
}

}  // namespace snare::proxy
