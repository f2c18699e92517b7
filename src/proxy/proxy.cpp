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
#include "proxy/stats_server.h"
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

// Each connection costs 2 fds; keep room for the pipe pools, listeners and the stats endpoint.
size_t connections_per_worker(const ProxyOptions& o) {
  const rlim_t nofile = raise_nofile();
  const rlim_t reserve = 64 + static_cast<rlim_t>(o.workers) * (2 * 64 + 8);
  size_t max_conns = nofile > reserve ? (nofile - reserve) / 2 : 16;
  if (o.max_connections > 0)
    max_conns = std::min(max_conns, static_cast<size_t>(o.max_connections));
  return std::max<size_t>(1, max_conns / static_cast<size_t>(o.workers));
}

WorkerConfig worker_config(const ProxyOptions& o, size_t per_worker) {
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
  return wc;
}

std::vector<ListenerSpec> listener_specs(const ProxyOptions& o) {
  const bool v6 =
      o.ipv6 == FamilyMode::on || (o.ipv6 == FamilyMode::automatic && kernel_has_ipv6());
  std::vector<ListenerSpec> specs;
  auto add = [&](const std::string& ip, uint16_t port, Direction dir) {
    if (port == 0) return;
    ListenerSpec s;
    s.addr = *SockAddr::parse_ip(ip, port);
    s.direction = dir;
    s.transparent = dir == Direction::inbound && o.inbound_transparent;
    s.reuseport = o.workers > 1;
    specs.push_back(s);
  };
  add(o.bind_v4, o.outbound_port, Direction::outbound);
  add(o.bind_v4, o.inbound_port, Direction::inbound);
  if (v6) {
    add(o.bind_v6, o.outbound_port, Direction::outbound);
    add(o.bind_v6, o.inbound_port, Direction::inbound);
  }
  return specs;
}

// Every worker's listeners, opened while still root (IP_TRANSPARENT needs CAP_NET_ADMIN).
Status open_listeners(const std::vector<ListenerSpec>& specs, int workers,
                      std::vector<std::vector<Listener>>& out) {
  out.assign(static_cast<size_t>(workers), {});
  for (auto& ls : out) {
    for (const ListenerSpec& s : specs) {
      Listener l;
      std::string warning;
      if (Status st = open_listener(real_socket_calls(), s, &l, &warning); !st.ok()) {
        for (auto& v : out)
          for (Listener& x : v) ::close(x.fd);
        return st;
      }
      if (!warning.empty() && &ls == &out.front()) log_warn("{}", warning);
      ls.push_back(l);
    }
  }
  return Status::Ok();
}

Status become_proxy_identity(const ProxyOptions& o) {
  DropResult dr;
  if (Status st = drop_privileges(o.uid, o.gid, true, &dr); !st.ok()) return st;
  if (dr.dropped) {
    log_info("running as uid {} gid {} with CAP_NET_ADMIN only", o.uid, o.gid);
  } else if (::geteuid() == 0) {
    log_warn(
        "running as root (--uid 0): rules that exclude only the proxy's uid will capture this "
        "proxy's own connections");
  }
  return Status::Ok();
}

void log_listening(const std::vector<ListenerSpec>& specs, const ProxyOptions& o,
                   size_t max_connections) {
  std::string where;
  for (const ListenerSpec& s : specs)
    where += fmt::format("{}{} {}{}", where.empty() ? "" : ", ", direction_name(s.direction),
                         s.addr.str(), s.transparent ? " (transparent)" : "");
  log_line(LogLevel::info, "proxy listening",
           {{"listeners", where},
            {"workers", std::to_string(o.workers)},
            {"max_connections", std::to_string(max_connections)},
            {"stats_port", std::to_string(o.stats_port)}});
}

// SIGTERM/SIGINT, taken on this thread only: the first drains, a second closes everything now.
void serve_until_stopped(std::vector<std::unique_ptr<Worker>>& ws, const std::atomic<int>& running,
                         const sigset_t& sigs, const ProxyOptions& o) {
  int signals = 0;
  while (running.load() > 0) {
    timespec ts{0, 100 * 1000 * 1000};
    const int sig = sigtimedwait(&sigs, nullptr, &ts);
    if (sig <= 0) continue;
    if (++signals == 1) {
      log_info("signal {}: draining for up to {} ms", sig, o.drain_timeout.count());
      for (auto& w : ws) w->drain();
    } else {
      log_info("signal {} again: closing now", sig);
      for (auto& w : ws) w->stop_now();
    }
  }
}

}  // namespace

int run_proxy(const ProxyOptions& o) {
  log_configure(o.log_level, o.log_as_json);
  // A peer that went away must be an EPIPE from splice/send, not a process-killing signal.
  ::signal(SIGPIPE, SIG_IGN);
  const size_t per_worker = connections_per_worker(o);
  const WorkerConfig wc = worker_config(o, per_worker);
  const std::vector<ListenerSpec> specs = listener_specs(o);
  std::vector<std::vector<Listener>> listeners;
  StatsServer stats_server;
  Status st = open_listeners(specs, o.workers, listeners);
  if (st.ok() && o.stats_port != 0) st = stats_server.open(o.stats_port);
  if (st.ok()) st = become_proxy_identity(o);
  if (!st.ok()) {
    log_error("snare proxy: {}", st.error);
    return 1;
  }
  // Workers inherit this mask: signals are taken by sigtimedwait, on this thread only.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  LoopGuard guard;
  std::vector<std::unique_ptr<Worker>> ws;
  for (int i = 0; i < o.workers; ++i) {
    ws.push_back(std::make_unique<Worker>(i, wc, &guard));
    if (Status init = ws.back()->init(std::move(listeners[static_cast<size_t>(i)])); !init.ok()) {
      log_error("snare proxy: {}", init.error);
      return 1;
    }
  }
  std::atomic<int> running{o.workers};
  std::vector<std::thread> threads;
  std::vector<const WorkerStats*> stat_blocks;
  for (auto& w : ws) {
    stat_blocks.push_back(&w->stats());
    threads.emplace_back([&running, wp = w.get()] {
      wp->run();
      running.fetch_sub(1);
    });
  }
  stats_server.start(stat_blocks);
  log_listening(specs, o, per_worker * static_cast<size_t>(o.workers));
  serve_until_stopped(ws, running, sigs, o);
  for (auto& t : threads) t.join();
  stats_server.stop();
  log_info("proxy stopped");
  return 0;
}

}  // namespace snare::proxy
