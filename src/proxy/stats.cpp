// Stats rendering and the metrics endpoint (see stats.h).
#include "proxy/stats.h"

#include <fmt/format.h>

namespace snare::proxy {

const char* end_reason_name(EndReason r) {
  switch (r) {
    case EndReason::eof:
      return "eof";
    case EndReason::client_reset:
      return "client_reset";
    case EndReason::upstream_reset:
      return "upstream_reset";
    case EndReason::connect_refused:
      return "connect_refused";
    case EndReason::connect_failed:
      return "connect_failed";
    case EndReason::connect_timeout:
      return "connect_timeout";
    case EndReason::idle_timeout:
      return "idle_timeout";
    case EndReason::loop:
      return "loop";
    case EndReason::not_redirected:
      return "not_redirected";
    case EndReason::overload:
      return "overload";
    case EndReason::drain:
      return "drain";
    case EndReason::count_:
      break;
  }
  return "unknown";
}

std::string render_prometheus(const std::vector<const WorkerStats*>& workers) {
  auto sum = [&](auto member) {
    uint64_t total = 0;
    for (const WorkerStats* w : workers) total += member(*w).load(std::memory_order_relaxed);
    return total;
  };
  static const char* dirs[2] = {"outbound", "inbound"};
  std::string out;
  auto per_dir = [&](const char* name, const char* type, const char* help, auto pick) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    for (int d = 0; d < 2; ++d) {
      out += fmt::format(
          "{}{{direction=\"{}\"}} {}\n", name, dirs[d],
          sum([&](const WorkerStats& w) -> const std::atomic<uint64_t>& { return pick(w, d); }));
    }
  };
  per_dir(
      "snare_proxy_connections_accepted_total", "counter", "Connections accepted.",
      [](const WorkerStats& w, int d) -> const std::atomic<uint64_t>& { return w.accepted[d]; });
  per_dir("snare_proxy_connections_active", "gauge", "Connections open now.",
          [](const WorkerStats& w, int d) -> const std::atomic<uint64_t>& { return w.active[d]; });
  per_dir(
      "snare_proxy_bytes_to_destination_total", "counter",
      "Bytes relayed from clients to original destinations.",
      [](const WorkerStats& w, int d) -> const std::atomic<uint64_t>& { return w.bytes_up[d]; });
  per_dir(
      "snare_proxy_bytes_to_client_total", "counter",
      "Bytes relayed from original destinations to clients.",
      [](const WorkerStats& w, int d) -> const std::atomic<uint64_t>& { return w.bytes_down[d]; });
  out +=
      "# HELP snare_proxy_connections_ended_total Connections ended, by reason.\n"
      "# TYPE snare_proxy_connections_ended_total counter\n";
  for (int r = 0; r < static_cast<int>(EndReason::count_); ++r) {
    out += fmt::format(
        "snare_proxy_connections_ended_total{{reason=\"{}\"}} {}\n",
        end_reason_name(static_cast<EndReason>(r)),
        sum([&](const WorkerStats& w) -> const std::atomic<uint64_t>& { return w.ended[r]; }));
  }
  out += fmt::format(
      "# HELP snare_proxy_relayed_bytes_total Bytes relayed, by method.\n"
      "# TYPE snare_proxy_relayed_bytes_total counter\n"
      "snare_proxy_relayed_bytes_total{{method=\"splice\"}} {}\n"
      "snare_proxy_relayed_bytes_total{{method=\"copy\"}} {}\n",
      sum([](const WorkerStats& w) -> const std::atomic<uint64_t>& { return w.spliced_bytes; }),
      sum([](const WorkerStats& w) -> const std::atomic<uint64_t>& { return w.copied_bytes; }));
  out += fmt::format(
      "# HELP snare_proxy_accept_paused_total Times accepting paused for lack of descriptors.\n"
      "# TYPE snare_proxy_accept_paused_total counter\n"
      "snare_proxy_accept_paused_total {}\n",
      sum([](const WorkerStats& w) -> const std::atomic<uint64_t>& { return w.accept_paused; }));
  out += fmt::format(
      "# HELP snare_proxy_workers Event-loop threads.\n# TYPE snare_proxy_workers gauge\n"
      "snare_proxy_workers {}\n",
      workers.size());
  return out;
}

}  // namespace snare::proxy
