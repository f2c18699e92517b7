// TablesBackend: the seam between the apply logic and the kernel's x_tables.
//
// A backend reads one (family, table) into a TableModel and writes a table's complete new
// contents in one atomic commit. The real one uses libiptc (libip4tc + libip6tc; one
// SO_SET_REPLACE per table); tests/unit has a fake that keeps tables in memory and fails on
// request, and apply/fault.h a decorator that injects a failure after N commits. Reading keeps
// every entry's normalised kernel bytes next to its decoded rule, so that a snapshot written back
// restores foreign rules byte for byte, matches and targets snare does not model included, and
// keeps their counters.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "model/table.h"

namespace snare {

class TablesBackend {
 public:
  virtual ~TablesBackend() = default;
  virtual std::string name() const = 0;
  // Reads the table. A table the kernel has not instantiated reads as empty builtin chains with
  // ACCEPT policies and present=false, without instantiating it (reading a legacy table creates
  // it, and nothing could remove it again).
  virtual Status read(Family family, Table table, TableModel& out) = 0;
  // Replaces the whole table with `desired` in one atomic commit (retrying on EAGAIN); a planned
  // entry without bytes is encoded on the way. `committed` says whether the new table is in the
  // kernel: a real failure leaves the old one, an injected fault (apply/fault.h) fails after its
  // commit.
  virtual Status write(const TableModel& desired, bool& committed) = 0;
};

std::unique_ptr<TablesBackend> make_iptc_backend();

}  // namespace snare
