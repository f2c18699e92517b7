// Reconcile: from the tables the kernel holds and the plan, the tables an apply (or cleanup) must
// leave, and whether that differs from what is there.
//
// Ownership. In a table read back, snare counts as "istio's" (and so as its own to replace):
//   * every user chain named ISTIO_*;
//   * every rule in a builtin chain whose target is an ISTIO_* chain (the jumps);
//   * every builtin-chain rule that is byte-for-byte one the plan puts there;
//   * with --reconcile only, builtin-chain rules of the shapes istio writes without a jump
//     (see is_istio_shape): `-i/-o NIC -j RETURN`, the TPROXY CONNMARK save/restore, the
//     `-o lo -p tcp -m mark --mark M -j RETURN` and `... -m owner ... -j MARK` rules.
// What cannot be told apart: a foreign rule of exactly one of those shapes (say, a CNI's own
// `-i eth1 -j RETURN` in nat PREROUTING) is taken for istio's by --reconcile and removed; a foreign
// rule identical to one the plan adds is treated as the plan's. Everything else is foreign and kept
// where it is.
//
// Desired state = the table with istio's part removed, then the plan's operations replayed on it
// (`-A` appends after foreign rules, `-I N` inserts at N), so foreign rules keep their places.
// Two states are "the same" when the ISTIO_* chains are equal and, in every builtin chain, the
// sequence of istio's rules equals the plan's sequence: foreign rules interleaved differently (a
// rule appended by someone after istio's jump) do not count as drift.
#pragma once

#include <string>
#include <vector>

#include "config.h"
#include "iptc_backend.h"
#include "rule.h"
#include "status.h"

namespace snare {

enum class Ownership { foreign, planned_exact, istio_jump, istio_shape };

// Istio's jump-less builtin-chain rule shapes (the ones --reconcile removes).
bool is_istio_shape(Table table, const std::string& chain, const EntryState& e);

struct TablePlan {
  TableState current;    // as read (also the rollback snapshot)
  TableState desired;    // what the apply leaves
  bool residue = false;  // current holds istio state (ISTIO_* chains or jumps to them)
  bool same = false;     // current already is desired (in the sense above)
};

// Computes desired/residue/same for one table. `planned` holds the plan's chains for this table
// (builtin chains with the plan's rules in operation order are replayed, not copied).
Status plan_table(const RuleSet& set, Table table, bool reconcile, TablePlan& tp);

// What cleanup leaves: the table without the chains the plan creates, without the builtin-chain
// rules the plan adds, and without any rule jumping to a removed chain.
Status cleanup_table(const RuleSet& set, Table table, TablePlan& tp);

// The table in iptables-save form (chains sorted like iptables-save, unsupported parts noted).
std::string render_table_state(const TableState& t);

// A line diff of two tables in iptables-save form: "-" lines only in `have`, "+" only in `want`,
// under a "*table" header with the family. Empty when equal.
std::string diff_tables(const TableState& have, const TableState& want);

}  // namespace snare
