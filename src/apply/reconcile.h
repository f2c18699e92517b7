// Reconcile: from a table the kernel holds and the plan, the table an apply (or a cleanup) must
// leave, and whether that differs from what is there.
//
// Ownership. In a table read back, snare counts as istio's (and so as its own to replace):
//   * every user chain named ISTIO_*;
//   * every rule in a builtin chain whose target is an ISTIO_* chain (the jumps);
//   * every builtin-chain rule that is byte-for-byte one the plan puts there;
//   * with --reconcile only, builtin-chain rules of the shapes istio writes without a jump
//     (see is_istio_shape): `-i/-o NIC -j RETURN`, the TPROXY CONNMARK save/restore, the
//     `-o lo -p tcp -m mark --mark M -j RETURN` and `... -m owner ... -j MARK` rules.
// What cannot be told apart: a foreign rule of exactly one of those shapes (say, a CNI's own
// `-i eth1 -j RETURN` in nat PREROUTING) is taken for istio's by --reconcile and removed; a foreign
// rule identical to one the plan adds is treated as the plan's. Everything else is foreign and
// kept where it is.
//
// Desired table = the table with istio's part removed, then the plan's operations replayed on it
// (`-A` appends after foreign rules, `-I N` inserts at N); a builtin chain whose istio rules
// already are the plan's, in order, is kept as read, so a rule appended after istio's jump stays
// after it. A
// family the plan writes no rules for (IPv6 with IPv6 off) is planned like any other: its istio
// part is earlier istio state, which verify reports and --reconcile removes. Two tables are "the
// same" when the ISTIO_* chains are equal and, in every builtin chain, the sequence of istio's
// rules equals the plan's: foreign rules interleaved differently (a rule appended by someone
// after istio's jump) do not count as drift.
#pragma once

#include <string>

#include "base/status.h"
#include "model/table.h"

namespace snare {

// Istio's jump-less builtin-chain rule shapes (the ones --reconcile removes).
bool is_istio_shape(Table table, const std::string& chain, const Entry& e);

struct TablePlan {
  TableModel current;    // as read (also the rollback snapshot)
  TableModel desired;    // what the apply leaves
  bool residue = false;  // current holds istio state (ISTIO_* chains or jumps to them)
  bool same = false;     // current already is desired (in the sense above)
  // Desired only adds to current's istio part: every ISTIO_* chain and builtin-chain istio rule
  // there is the plan's, in the plan's order, with only rules at the ends (or whole chains and
  // tables) missing. What an earlier run with the same flags leaves when it is killed between
  // its commits; nothing in it contradicts the flags. True when same.
  bool only_adds = false;
};

// Computes desired/residue/same for `tp.current`'s family and table. `replace` (--reconcile,
// --force-apply) also removes istio's jump-less shapes. Pure: the planned rules are encoded by
// the extensions (ext/forms.h), not through the kernel seam.
Status plan_table(const Plan& plan, bool replace, TablePlan& tp);

// What cleanup leaves: the table without the chains the plan creates, without the builtin-chain
// rules the plan adds, and without any rule jumping to a removed chain. In a family the plan
// writes no rules for, every ISTIO_* chain and jump to one goes.
Status cleanup_table(const Plan& plan, TablePlan& tp);

}  // namespace snare
