// TablesBackend: the seam between the apply logic and the kernel's x_tables.
//
// A backend reads one (family, table) into a TableState and writes a table's complete new
// contents in one atomic commit. The real one uses libiptc (libip4tc + libip6tc; one
// SO_SET_REPLACE per table); tests/unit has a fake that keeps tables in memory and fails on
// request. Reading keeps every entry's normalised kernel bytes next to its decoded Rule, so a
// snapshot written back restores foreign rules byte for byte, including matches and targets snare
// does not model, and keeps their counters.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "iptc_codec.h"
#include "rule.h"
#include "status.h"

namespace snare {

struct EntryState {
  Rule rule;                             // decoded (read back) or planned
  EntryBytes bytes;                      // normalised kernel bytes, or the encoded planned rule
  std::vector<std::string> unsupported;  // decoder's notes; non-empty: foreign beyond doubt
  bool planned = false;                  // placed by this apply's plan (not read back)
};

struct ChainState {
  std::string name;
  bool builtin = false;
  std::string policy;  // builtin chains: "ACCEPT" / "DROP"; user chains: empty
  std::vector<EntryState> entries;
};

struct TableState {
  Family family = Family::v4;
  Table table = Table::nat;
  bool present = false;            // the kernel had instantiated this table before we read it
  std::vector<ChainState> chains;  // builtins in hook order, then user chains

  ChainState* find(const std::string& name);
  const ChainState* find(const std::string& name) const;
  // True when no chain holds a rule and there is no user chain (a fresh or never-used table).
  bool empty() const;
};

class TablesBackend {
 public:
  virtual ~TablesBackend() = default;
  virtual std::string name() const = 0;
  // Reads the table. A table the kernel has not instantiated reads as empty builtin chains with
  // ACCEPT policies and present=false, without instantiating it.
  virtual Status read(Family family, Table table, TableState& out) = 0;
  // Replaces the whole table with `desired` in one atomic commit (retrying on EAGAIN). Every entry
  // must carry its bytes. On failure the kernel table is unchanged and the error says why.
  virtual Status write(const TableState& desired) = 0;
};

std::unique_ptr<TablesBackend> make_iptc_backend();

// A fresh table's state: builtin chains, ACCEPT policies, nothing else.
TableState empty_table_state(Family family, Table table);

// The rule model's view of a table (for render_save).
TableImage to_image(const TableState& state);

// The key that decides whether two entries are the same rule (see entry_key).
std::string entry_state_key(Family family, const EntryState& e);

// One rule in iptables-save form, with whatever the decoder could not model appended as
// ` [unsupported by snare: -m comment (rev 0)]` so that a foreign rule stays recognisable.
std::string render_entry(Family family, const std::string& chain, const EntryState& e);

// Errno in words for a libiptc call, naming the likely cause (missing module, privileges).
std::string iptc_errno_text(int err);

}  // namespace snare
