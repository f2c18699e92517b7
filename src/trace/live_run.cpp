// `snare trace --live`'s run: the temporary table, the packet, the events, the table removed
// again on every path (see live.h).
#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "trace/live.h"

namespace snare {
namespace {

using Clock = std::chrono::steady_clock;

int ms_left(Clock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::max<long long>(0, left));
}

// The events until the packet's last one: the first waits up to the timeout, each later one at
// most the quiet time (a packet's events come together).
Status collect(NftTraceOps& ops, int timeout_ms, std::vector<NftTraceEvent>& out) {
  constexpr int kQuietMs = 150;
  constexpr size_t kMaxEvents = 100000;
  const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (out.size() < kMaxEvents) {
    const int wait = out.empty() ? ms_left(deadline) : std::min(kQuietMs, ms_left(deadline));
    NftTraceEvent e;
    bool got = false;
    if (Status s = ops.next(e, wait, got); !s.ok()) return s;
    if (got) {
      out.push_back(std::move(e));
      continue;
    }
    if (!out.empty()) return Status::Ok();
    if (ms_left(deadline) == 0)
      return Status::Fail(fmt::format("no matching packet was traced within {} s (--live-timeout)",
                                      (timeout_ms + 999) / 1000));
  }
  return Status::Ok();
}

// The traced tables' rules by handle; a table the kernel does not hold is named in `missing`.
Status list_rules(NftBackend& nft, const std::vector<std::string>& tables, LiveRules& rules,
                  std::vector<std::string>& missing) {
  std::vector<std::string> names;
  std::map<std::string, uint32_t> flags;
  if (Status s = nft.inet_tables(names, flags); !s.ok()) return s;
  for (const std::string& t : tables) {
    if (std::find(names.begin(), names.end(), t) == names.end()) {
      missing.push_back(t);
      continue;
    }
    std::string json;
    if (Status s = nft.list_table(t, true, json); !s.ok()) return s;
    if (Status s = parse_live_rules(json, rules); !s.ok())
      return Status::Fail(fmt::format("table inet {}: {}", t, s.error));
  }
  return Status::Ok();
}

LiveProbe probe_of(const LiveOptions& o) {
  LiveProbe p;
  p.tcp = o.packet.proto == "tcp";
  p.src = o.packet.src, p.dst = o.packet.dst;
  p.sport = o.packet.sport, p.dport = o.packet.dport;
  p.uid = o.packet.uid, p.gid = o.packet.gid;
  p.mark = o.mark;
  return p;
}

// Everything between writing the table and removing it.
Status trace_once(NftBackend& nft, NftTraceOps& ops, const LiveOptions& o, LiveRules& rules,
                  std::vector<std::string>& missing, std::vector<NftTraceEvent>& events) {
  if (Status s = list_rules(nft, o.traced_tables, rules, missing); !s.ok()) return s;
  if (o.wait_for_peer) {
    if (o.on_waiting) o.on_waiting();
  } else if (Status s = ops.send(probe_of(o)); !s.ok()) {
    return Status::Fail("the probe packet: " + s.error);
  }
  return collect(ops, o.timeout_ms, events);
}

}  // namespace

LiveResult run_live(NftBackend& nft, NftTraceOps& ops, const LiveOptions& o, int& signal) {
  LiveResult r;
  ops.catch_signals();
  bool written = false;
  LiveRules rules;
  std::vector<std::string> missing;
  std::vector<NftTraceEvent> events;
  Status s = ops.subscribe();
  if (s.ok()) s = nft.run(live_table_commands(o.table, o.dir, o.packet), written);
  if (s.ok()) s = trace_once(nft, ops, o, rules, missing, events);
  if (written) {
    // Why no early return above: the table goes on every path, an error's and a signal's too.
    bool committed = false;
    if (Status d = nft.run(fmt::format("delete table inet {}\n", o.table), committed); !d.ok())
      s = Status::Fail(fmt::format("{}{}could not remove table inet {}: {}", s.ok() ? "" : s.error,
                                   s.ok() ? "" : "; ", o.table, d.error));
  }
  signal = ops.release_signals();
  if (!s.ok()) {
    r.error = s.error;
    return r;
  }
  const bool out = o.dir == Direction::out;
  r = correlate(select_events(events, out), rules, o.traced_tables, o.table);
  for (const std::string& t : missing)
    r.disagreements.push_back(fmt::format("table inet {}: simulated, not in the kernel", t));
  return r;
}

}  // namespace snare
