// The x_tables entry layout: an ipt_entry / ip6t_entry header (addresses, interfaces, protocol),
// then xt matches, then one xt target, each a header plus its payload, 8-byte aligned. Writing
// fills a zeroed buffer in place (so padding bytes are zero, as iptables leaves them); reading
// walks an entry as libiptc hands it out. The extension forms in this folder use these two to
// encode and decode their part; kernel/iptc_backend.cpp moves whole entries to and from libiptc.
//
// Entries are compared by their normalised bytes (counters zeroed, kept apart). An entry snare
// encodes is already normalised, so "this kernel rule is that planned rule" is a byte comparison.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "model/rule.h"

namespace snare {

class EntryWriter {
 public:
  // Writes into `scratch`, a buffer the caller may keep for the next entry (one allocation for
  // thousands of entries instead of one each).
  EntryWriter(Family family, std::string& scratch);
  Family family() const { return family_; }

  // Header fields. `addr` and `mask` hold 4 or 16 bytes; the address is stored masked.
  void address(bool source, const unsigned char* addr, const unsigned char* mask, bool invert);
  bool iface(bool out, std::string_view name, bool invert);  // false: not a valid name
  void proto(uint16_t proto);
  uint16_t proto() const;

  // Appends an extension with a zeroed payload of `payload` bytes and returns it. The pointer is
  // valid until the next call that appends.
  void* add_match(const char* name, uint8_t revision, size_t payload);
  void* find_match(std::string_view name);  // an added match's payload, or null
  void* add_target(const char* name, uint8_t revision, size_t payload);
  // A jump or verdict: the standard target named by its label; libiptc turns it into a verdict or
  // a jump offset when the entry is appended.
  void standard_target(std::string_view label);

  // The finished entry (offsets set), for libiptc and for comparison, in a string of its size.
  std::string finish();

 private:
  void* add(const char* name, uint8_t revision, size_t payload);
  unsigned char* header();
  Family family_;
  std::string& buf_;
  size_t target_offset_ = 0;
};

// One xt extension of an entry being read.
struct XtView {
  std::string name;   // "" for the standard target (a jump or a verdict)
  std::string label;  // the standard target's verdict or chain, as libiptc names it
  int revision = 0;
  const unsigned char* data = nullptr;  // payload; may be unaligned: memcpy out of it
  size_t size = 0;                      // payload bytes
};

// The header of an entry being read, family-neutral.
struct EntryHeader {
  unsigned char src[16] = {}, smsk[16] = {}, dst[16] = {}, dmsk[16] = {};
  std::string iniface, outiface;
  uint16_t proto = 0;
  bool inv_src = false, inv_dst = false, inv_in = false, inv_out = false;
  std::vector<std::string> oddities;  // header flags snare does not model ("-f", "-g", ...)
};

EntryHeader read_header(Family family, const void* entry);
std::vector<XtView> read_matches(Family family, const void* entry);
XtView read_target(Family family, const void* entry);

// A copy of a read-back entry that iptc_append_entry accepts again and that compares equal to the
// same rule encoded by snare: the standard target carries its label as name (libiptc maps it
// back to a verdict or a jump), name tails are zeroed, comefrom is cleared and the counters are
// zeroed (they are returned apart, in `packets` and `octets`).
std::string normalize_entry(Family family, const void* entry, const char* target_label,
                            uint64_t& packets, uint64_t& octets);

// An encoded entry with its counters set, for appending a rule read back with its counters.
std::string with_counters(Family family, const std::string& entry, uint64_t packets,
                          uint64_t octets);

// The extensions an entry uses, for naming what the kernel lacks when a commit fails.
struct ExtensionRef {
  bool target = false;
  std::string name;
  int revision = 0;
};
std::vector<ExtensionRef> entry_extensions(Family family, const std::string& entry);

// "addr/prefix" for a contiguous mask, "addr/maskaddr" otherwise (iptables-save's spelling).
std::string cidr_text(Family family, const unsigned char* addr, const unsigned char* mask);

}  // namespace snare
