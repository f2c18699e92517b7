// `snare trace`: where one packet goes through a rule set, simulated on the table model
// (docs/DESIGN.md, "Trace"). The tables are whatever holds the rules as data: a plan's replay,
// the kernel's tables read back. The walk follows the kernel: the hooks a packet to or from a
// local socket passes in their order and, at each, the tables by priority (raw, mangle, nat);
// each builtin chain's rules in order, jumps and returns, the policy at the end. What a rule's
// matches and target say of the packet is the extensions' evaluation form (ext/eval.h).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ext/eval.h"
#include "kernel/routes.h"
#include "model/table.h"

namespace snare {

// One line of the path: a hook's table entered, a rule evaluated, a chain's policy taken, or a
// note (a table the packet skips, and why).
struct TraceStep {
  enum class Kind : uint8_t { enter, rule, policy, note } kind = Kind::rule;
  Hook hook = Hook::output;
  Table table = Table::nat;
  std::string table_name;  // "nat"; nftables: "istio-proxy-nat"
  std::string chain;
  int position = 0;  // rule: 1-based in its chain
  int depth = 0;     // 0 in the builtin chain, 1 in a chain it jumped to, ...
  std::string text;  // the rule in iptables-save's (or nft's) form; the policy; the note
  MatchResult::Outcome outcome = MatchResult::Outcome::matched;
  std::string why;  // not matched: the failed test; matched: what the target did
};

// The policy routing the packet meets after the walk: istio's fwmark rules (TPROXY's, ambient's),
// each `fwmark M/MASK lookup T` with `local default dev lo` in T, and which one its mark selects.
struct TraceRouting {
  std::string rule;      // "fwmark 0x539/0xffffffff lookup 133": the rule the mark selects
  bool matched = false;  // a rule selects it: the packet is delivered locally
  std::string note;      // the answer's line
};

struct TraceResult {
  Packet packet;                   // as it leaves the last hook
  std::optional<Capture> capture;  // REDIRECT / TPROXY / SNAT / DNAT
  bool dropped = false;
  bool accepted = false;  // an ACCEPT verdict ended a chain somewhere
  std::optional<int> zone;
  std::string by;                       // the rules that decided: "nat OUTPUT rule 1 -> ..."
  std::string last_match;               // nothing decided: the last rule that matched
  std::vector<TraceStep> path;          //
  std::vector<std::string> uncertain;   // rules (and why) the simulator could not evaluate
  std::string error;                    // the walk stopped: a loop between chains, ...
  std::optional<TraceRouting> routing;  // set by route_packet
  bool captured() const;                // redirected or TPROXY'd to a local port
};

// Which way the packet goes: `out` from a local process, `in` arriving on an interface for a
// local socket.
enum class Direction : uint8_t { out, in };

// A base chain the kernel enters at a hook: a table's builtin chain (iptables' nat OUTPUT) or an
// nftables base chain (inet istio-proxy-nat output, type nat hook output priority -100).
struct TraceEntry {
  Hook hook = Hook::output;
  Table table = Table::nat;  // the table model holding the chain (nftables: its table's kind)
  int priority = 0;
  std::string table_name;  // "nat"; "istio-proxy-nat"
  std::string chain;       // "OUTPUT"; "output"
  std::string label;       // the path's line on entering it
  int table_index = -1;    // its table in TraceRules::tables; -1: the one of kind `table`
};

// A rule set to walk: its tables (one family's), where the kernel enters them, and the syntax
// of the path's rule lines. The walk orders the entries by hook, then priority.
struct TraceRules {
  std::vector<TableModel> tables;
  std::vector<TraceEntry> entries;
  bool nft = false;  // rule lines in nft's syntax, else iptables-save's
  // Jumps name the chains as the tables hold them (read back); else, with `nft`, a plan's
  // iptables names in nftables spelling (ISTIO_OUTPUT -> istio-output).
  bool native_names = false;
  // Rules the rule set holds that the walk does not (iptables' filter table): each makes the
  // answer uncertain, since a DROP there would stop the packet.
  std::vector<std::string> not_walked;
};

// iptables: each table's builtin chains at the kernel's priorities (raw -300, mangle -150, nat
// -100 where it maps destinations, 100 where it maps sources).
TraceRules iptables_trace_rules(std::vector<TableModel> tables);

// nftables (istio's native mode): the plan's inet tables (model/nft_layout.h), base chains at
// their hooks and priorities, chain names and rule lines in nft's spelling.
TraceRules nft_trace_rules(const Plan& plan, Family family);

// Walks `p` (the first packet of a connection, or a later one with p.established) through
// `tables` (one family's, any subset of raw, mangle and nat). Never loops: a jump into a chain
// already on the walk's stack is reported in `error`, and so is a walk past `max_steps` rules.
TraceResult trace_packet(const TraceRules& rules, Direction dir, const Packet& p,
                         size_t max_steps = 250000);
TraceResult trace_packet(const std::vector<TableModel>& tables, Direction dir, const Packet& p,
                         size_t max_steps = 250000);

// The routing after the walk, from istio's policy routes the rule set comes with (the flags',
// or the namespace's): the first rule by priority whose mark and mask select the packet's mark
// (a rule the kernel numbered comes at 32765, before the main table's 32766). Nothing is said
// when there are no such routes and nothing was TPROXY'd.
void route_packet(TraceResult& r, const std::vector<RouteOps::TproxyRoute>& routes);

}  // namespace snare
