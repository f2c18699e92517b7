// Worker: one event-loop thread: its listeners, its connections, its pipes, its counters.
//
// Workers share nothing on the data path. With --workers N each has its own SO_REUSEPORT
// listeners, so the kernel spreads new connections across them; a connection lives and dies on
// the worker that accepted it. Time is kept coarsely (once per loop turn) and timeouts are found
// by a scan once a second: at a few thousand connections a scan costs less than keeping a timer
// structure up to date on every byte.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "base/status.h"
#include "proxy/connection.h"
#include "proxy/listener.h"
#include "proxy/loop_guard.h"
#include "proxy/pipe_pool.h"
#include "proxy/proxy_options.h"
#include "proxy/socket_calls.h"
#include "proxy/stats.h"

namespace snare::proxy {

struct WorkerConfig {
  std::vector<uint16_t> own_ports;  // every listener port of the process (loop detection)
  SockAddr inbound_source_v4;       // 127.0.0.6:0
  SockAddr inbound_source_v6;       // [::6]:0
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds idle_timeout{3600 * 1000};
  std::chrono::milliseconds drain_timeout{5000};
  SpliceMode splice = SpliceMode::automatic;
  uint32_t pipe_size = 1 << 20;
  size_t max_connections = 8000;
  bool access_log = true;
};

class Worker {
 public:
  Worker(int id, const WorkerConfig& config, LoopGuard* guard,
         SocketCalls& calls = real_socket_calls());
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Takes ownership of the listener fds. Call before run().
  Status init(std::vector<Listener> listeners);
  // Runs until drain() has been called and the connections are gone (or the deadline passed).
  void run();
  // Thread-safe: stop accepting, let open connections finish until the drain deadline.
  void drain();
  // Thread-safe: close everything now.
  void stop_now();

  const WorkerStats& stats() const { return stats_; }

 private:
  void on_accept(Listener& l);
  void accept_one(Listener& l, int fd, const SockAddr& peer);
  int open_upstream(Direction dir, const SockAddr& dst, EndReason& reason, const char*& why);
  void add_conn(Conn* conn);
  void on_conn_event(Conn* c, int side, uint32_t events);
  void on_connected(Conn* c, uint32_t events);
  void run_pumps(Conn* c);
  void finish(Conn* c, EndReason reason, int err, bool reset_client, bool reset_upstream);
  void reject(int fd, Direction dir, const SockAddr& peer, const SockAddr& dst, EndReason reason,
              const char* why);
  void tick();
  void pause_accept(bool pause, const char* why = "");
  void begin_drain();
  bool is_own_listener(const SockAddr& dst);
  void update_now();

  int id_;
  WorkerConfig config_;
  LoopGuard* guard_;
  SocketCalls& calls_;
  int epfd_ = -1;
  int wakefd_ = -1;
  std::vector<Listener> listeners_;
  std::vector<Conn*> conns_;
  std::vector<Conn*> dead_;
  std::unique_ptr<char[]> scratch_;
  PipePool pipes_;
  PumpContext pump_ctx_;
  WorkerStats stats_;
  int64_t now_ms_ = 0;
  int64_t next_tick_ms_ = 0;
  int64_t drain_deadline_ms_ = 0;
  bool accept_paused_ = false;
  bool draining_ = false;
  std::atomic<int> request_{0};  // 1: drain, 2: stop now
};

}  // namespace snare::proxy
