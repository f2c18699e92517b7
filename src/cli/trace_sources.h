// Where `snare trace`'s rule set comes from, other than a rule command's flags: --rules files
// (iptables-save text, render/save_parse.h, or an nft JSON listing, trace/nft_readback.h, told
// apart by their content) and the kernel's state of the current namespace (its x_tables and its
// nf_tables, which the kernel both runs).
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "cli/cli.h"
#include "trace/trace.h"

namespace snare {

// The rule set of the packet's family from the --rules files. An nft JSON listing holds both
// families and comes alone; of save texts, the one its header (or its addresses) says is of
// that family, else one that says nothing. Errors name the file.
Status trace_rules_from_files(const std::vector<std::string>& files, Family family,
                              TraceRules& out);

// The current namespace's tables for the packet's family, read only: x_tables' raw, mangle and
// nat, and every nf_tables table of family ip, ip6 or inet.
Status trace_rules_from_kernel(const Commands& cmds, Family family, TraceRules& out);

}  // namespace snare
