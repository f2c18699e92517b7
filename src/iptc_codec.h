// The codec: one Rule <-> one ipt_entry / ip6t_entry, laid out as iptables 1.8.9 lays it out.
//
// Encoding picks the match and target revisions iptables-legacy 1.8.9 picks on current kernels
// (tcp/udp 0, multiport 1, owner 1, mark 1, connmark 1, conntrack 3; REDIRECT 0, TPROXY 1, MARK 2,
// CONNMARK 2, CT 2) and fills every payload in place inside a zeroed buffer, so that the kernel
// stores exactly the bytes iptables would (libiptc-guide.md §2-§4). Decoding is the reverse for
// entries read back from the kernel; whatever snare does not model (a foreign `-m comment`,
// `-j LOG`, a goto, an unusual flag) is named in DecodedRule::unsupported, and such an entry can
// never have the same key as an entry snare encodes.
//
// Entries are compared by entry_key(): the normalised bytes (counters, comefrom and name tails
// zeroed, a standard target spelled by its label instead of its verdict/offset). An entry snare
// encodes already is in that form, so `encode(rule) == entry_key(read back)` is the test for
// "this kernel rule is that planned rule".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "rule.h"
#include "status.h"

namespace snare {

// One entry's bytes. std::vector storage comes from operator new, so it is 16-byte aligned and
// the header and payload structs can be filled in place.
using EntryBytes = std::vector<unsigned char>;

// Encodes `rule` for `family`. Every value must be numeric by now (owner names resolved).
Status encode_rule(Family family, const Rule& rule, EntryBytes& out);

struct DecodedRule {
  Rule rule;                             // insert_at 0; table/chain are left for the caller
  std::vector<std::string> unsupported;  // e.g. "-m comment", "-j LOG", "-g"; empty: fully modelled
};

// Decodes a kernel entry (as iptc_first_rule returns it). `target_label` is iptc_get_target()'s
// answer for it (verdict name, chain name, "" for fall-through, or the extension name).
DecodedRule decode_entry(Family family, const void* entry, const char* target_label);

// A copy of a read-back entry that iptc_append_entry accepts again: the standard target carries
// its label as name (libiptc maps it back to a verdict or a jump), name tails are zeroed and
// comefrom is cleared; counters are kept, so a restored rule keeps its counters.
EntryBytes normalize_entry(Family family, const void* entry, const char* target_label);

// Comparison key of a normalised or freshly encoded entry: its bytes with counters zeroed.
std::string entry_key(Family family, const EntryBytes& normalized);

// The extensions an entry uses, as "match tcp rev 0" / "target TPROXY rev 1", for error messages.
struct ExtensionRef {
  bool target = false;
  std::string name;
  int revision = 0;
};
std::vector<ExtensionRef> entry_extensions(Family family, const EntryBytes& entry);

// Parses a mark as istio spells it: decimal or 0x hex, optionally "/mask". Mask defaults to
// 0xffffffff.
bool parse_mark(const std::string& text, uint32_t& value, uint32_t& mask);

// "0x539", "0x539/0xfff" (mask printed only when not all ones), as iptables-save prints marks.
std::string format_mark(uint32_t value, uint32_t mask);

}  // namespace snare
