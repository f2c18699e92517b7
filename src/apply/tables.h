// The table half of an apply or cleanup: read every table, commit the changed ones in order,
// and write the snapshots back when something fails. Internal to src/apply/.
#pragma once

#include <string>
#include <vector>

#include "apply/apply.h"
#include "apply/reconcile.h"

namespace snare {

// One (family, table) of an apply.
struct TableWork {
  TablePlan tp;
  bool commit = false;
  std::string label() const;  // "ipv4/nat"
};

// Both families' raw, mangle and nat, in commit order (raw, mangle, nat; IPv4 first in each),
// read from the backend.
Status read_tables(TablesBackend& tables, std::vector<TableWork>& work);

// Commits the marked tables in `order`; when one fails, writes back every table already
// committed (the failed one too when its failure came after its commit: an injected fault),
// newest first, and says so. `done` lists what stays to roll back if a later step fails.
Status commit_or_roll_back(const std::vector<TableWork*>& order, TablesBackend& tables,
                           ApplyReport& report, std::vector<TableWork*>& done);

// Writes the snapshots of `done` back, newest first. Returns "" or what failed.
std::string roll_back(std::vector<TableWork*>& done, TablesBackend& tables, ApplyReport& report);

}  // namespace snare
