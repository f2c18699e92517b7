// StatsServer: the --stats-port endpoint. Any GET gets the Prometheus text of the workers'
// counters (stats.h), over HTTP/1.0, on [::] with IPv4 mapped (0.0.0.0 where the namespace has no
// IPv6).
//
// One thread with its own epoll loop and per-connection state: a client that connects and says
// nothing, or trickles its request, holds no one else up. Each client has a deadline (kDeadline)
// and there is a bound on how many may be open; at the bound the oldest is dropped to make room,
// so a new scrape is always answered.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "proxy/stats.h"

namespace snare::proxy {

class StatsServer {
 public:
  static constexpr int64_t kDeadlineMs = 5000;
  static constexpr size_t kMaxClients = 256;

  ~StatsServer() { stop(); }
  // Binds the port (before privileges are dropped); start() runs the thread.
  Status open(uint16_t port);
  void start(std::vector<const WorkerStats*> workers);
  void stop();

 private:
  struct Client {
    int fd = -1;
    int64_t deadline_ms = 0;
    std::string in;   // the request so far
    std::string out;  // the response, once the request is complete
    size_t sent = 0;
  };
  void serve();
  void accept_all(int64_t now);
  // Reads or writes as the socket allows; false when the client is done (answered or failed).
  bool progress(Client& c);
  void drop(size_t index);
  int fd_ = -1;
  int epfd_ = -1;
  int wakefd_ = -1;
  std::vector<const WorkerStats*> workers_;
  std::deque<Client> clients_;  // oldest first
  std::thread thread_;
};

}  // namespace snare::proxy
