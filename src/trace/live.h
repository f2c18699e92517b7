// `snare trace --live`: the kernel's own answer for the packet, from nftables' trace events
// (kernel/nft_trace.h), set next to the simulation's (trace.h).
//
// A temporary table of snare's own (`inet snare-trace-PID`) has one base chain at the hook the
// packet enters first (output for out, prerouting for in) at priority -350, before raw and
// conntrack, with one rule matching the packet's tuple that sets its nftrace bit. The kernel then
// reports every base chain the packet enters and every rule that matched; the rule handles are
// mapped to the simulation's rule positions through the listing of the rule set's tables. The
// temporary table is removed on every path, including SIGINT and SIGTERM, and it is an owned table
// (`flags owner`): the kernel removes it itself when the process dies, SIGKILL included.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kernel/nft_backend.h"
#include "kernel/nft_trace.h"
#include "trace/trace.h"

namespace snare {

// A rule of the traced tables' listing: where it is, and what capture it makes.
struct LiveRule {
  std::string table, chain;
  int position = 0;    // 1-based in its chain
  std::string action;  // "redirect", "tproxy", "dnat", "snat" or empty
  std::optional<uint16_t> to_port;
};
// By (table, handle).
using LiveRules = std::map<std::pair<std::string, uint64_t>, LiveRule>;

// libnftables' JSON listing of one table (`list table inet NAME`) into `out`.
Status parse_live_rules(const std::string& json, LiveRules& out);

// One step of the kernel's path: a rule that matched (position from the listing, 0 when the
// handle is not in it), or a base chain's policy.
struct LiveStep {
  std::string table, chain;
  int position = 0;
  uint64_t handle = 0;
  bool policy = false;
  std::string verdict;    // "accept", "drop", "continue", "jump", "goto", "return"; the policy's
  std::string target;     // jump / goto: the chain
  bool simulated = true;  // a table of the simulated rule set (else another table in the kernel)
};

struct LiveResult {
  std::string error;  // the live trace could not run (nothing else is set)
  bool captured = false;
  std::string action = "none";  // as trace_action: redirect, tproxy, dnat, snat, accept, drop
  std::optional<uint16_t> to_port;
  std::string oif;  // the device the kernel routed the packet to (out), empty when none
  std::vector<LiveStep> path;
  std::vector<std::string> disagreements;  // empty: the kernel agrees with the simulation
};

// The packet's events (see select_events) as the kernel's answer. `own_table` (snare's
// temporary table) is left out; tables not in `simulated` are kept but marked.
LiveResult correlate(const std::vector<NftTraceEvent>& events, const LiveRules& rules,
                     const std::vector<std::string>& simulated, const std::string& own_table);

// The events of one packet out of all those received: the first trace id's and, for a packet
// sent out on lo, the id it gets when it arrives again (its events carry iif lo: index 1).
std::vector<NftTraceEvent> select_events(const std::vector<NftTraceEvent>& all, bool out_to_lo);

// Fills live.disagreements: the output interface (`asked`'s, what the simulation assumed, against
// the kernel's route: a mark can route a packet to lo), captured, action, to_port, then the paths
// (the simulation's matched rules and policies of the tables both know, against the kernel's).
void compare_live(const TraceResult& sim, const Packet& asked, LiveResult& live);

// The temporary table's transaction: the table, its chain at the packet's first hook, the tuple
// rule. Out: with the sending socket's owner (meta skuid/skgid); in: the input interface. TCP
// matches the SYN alone (the connection's first packet).
std::string live_table_commands(const std::string& table, Direction dir, const Packet& p);

struct LiveOptions {
  Direction dir = Direction::out;
  Packet packet;
  std::optional<uint32_t> mark;  // --mark given: SO_MARK
  int timeout_ms = 5000;
  std::string table;                       // the temporary table's name
  std::vector<std::string> traced_tables;  // the simulated rule set's inet tables
  bool wait_for_peer = false;              // in, not on lo: someone else sends the packet
  std::function<void()> on_waiting;        // called once the table is in place and the wait begins
};

// The whole run: subscribe, write the temporary table, list the traced tables, send (or wait),
// collect, remove the table (always), correlate. `signal`: SIGINT or SIGTERM when one arrived
// (the result's error then says so), else 0. The caller compares (compare_live).
LiveResult run_live(NftBackend& nft, NftTraceOps& ops, const LiveOptions& o, int& signal);

// The kernel's answer as text: its verdict, its path (one line per step), then "agrees" or one
// "DISAGREES" line per difference (`color`: those in bold red, for a terminal).
std::string live_text(const LiveResult& live, bool color);

// { "error", "captured", "action", "to_port", "agrees", "disagreements",
//   "path": [{table, chain, position, handle, policy, verdict, target, simulated}] }
std::string live_json(const LiveResult& live);

}  // namespace snare
