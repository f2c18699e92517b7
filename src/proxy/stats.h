// Stats: the proxy's counters, one block per worker, rendered as Prometheus text on request.
//
// Each worker is the only writer of its block, so counters are bumped with relaxed loads and
// stores (no locked instructions on the data path); the stats thread only reads, and sums the
// blocks when asked.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace snare::proxy {

// How a relayed connection ended (the `end` field of the connection log line).
enum class EndReason : uint8_t {
  eof,              // both directions finished with FIN
  client_reset,     // the client reset, or failed while sending
  upstream_reset,   // the destination reset, or failed while sending
  connect_refused,  // the destination refused (RST to the SYN)
  connect_failed,   // unreachable, or another connect error
  connect_timeout,
  idle_timeout,
  loop,            // original destination is one of our listeners, or a re-capture loop
  not_redirected,  // no original destination: a direct connection to the listener
  overload,        // no fd or memory for the upstream socket
  drain,           // still open at the drain deadline
  count_,
};
const char* end_reason_name(EndReason r);

struct alignas(64) WorkerStats {
  // Index 0: outbound, 1: inbound (Direction values).
  std::atomic<uint64_t> accepted[2] = {};
  std::atomic<uint64_t> active[2] = {};
  std::atomic<uint64_t> bytes_up[2] = {};    // client -> destination
  std::atomic<uint64_t> bytes_down[2] = {};  // destination -> client
  std::atomic<uint64_t> ended[static_cast<int>(EndReason::count_)] = {};
  std::atomic<uint64_t> spliced_bytes{0};
  std::atomic<uint64_t> copied_bytes{0};
  std::atomic<uint64_t> accept_paused{0};
};

// Single-writer increment.
inline void bump(std::atomic<uint64_t>& c, uint64_t n = 1) {
  c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}
inline void drop(std::atomic<uint64_t>& c, uint64_t n = 1) {
  c.store(c.load(std::memory_order_relaxed) - n, std::memory_order_relaxed);
}

std::string render_prometheus(const std::vector<const WorkerStats*>& workers);

}  // namespace snare::proxy
