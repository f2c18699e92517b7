// iptables-save / ip6tables-save text read back into table models (`snare trace --rules`): the
// inverse of render/save. Tables, chains with their policies, and rules, each rule's options
// read by the extensions' from_save forms (ext/forms.h); what no extension models stays in the
// entry's `unsupported`, like a kernel entry snare cannot decode. Only the tables a trace walks
// are kept (raw, mangle, nat); filter and security are read and left out.
//
// The text is untrusted: its size, line length, tokens, chains and rules are bounded, and every
// error is one sentence naming the line.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/table.h"

namespace snare {

struct SaveTextLimits {
  size_t max_bytes = 64u << 20;
  size_t max_line = 64u << 10;
  size_t max_tokens = 4096;  // per line
  size_t max_chains = 20000;
  size_t max_rules = 200000;
};

// `left_out`, when given: the tables left out that hold rules ("*filter: 3 rules").
Status parse_save_text(std::string_view text, Family family, std::vector<TableModel>& out,
                       const SaveTextLimits& limits = {},
                       std::vector<std::string>* left_out = nullptr);

// The family a save text is for: iptables-save's header comment says it, else its addresses;
// nullopt when nothing does (no comment, no address: either family's rules).
std::optional<Family> save_text_family(std::string_view text);

}  // namespace snare
