// Kernel extensions: where each match and target of the model has its forms (docs/DESIGN.md,
// "Extensions"). Like iptables' extensions/ folder, one file per extension (owner.cpp,
// tcpudp.cpp, mark.cpp for the mark match and the MARK target, ...), each with a uniform
// interface: a specialization Ext<T> for every alternative T of Match and Target, holding
//
//   restore(const T&, std::string&)            istio's iptables-restore spelling (the dry-run)
//   save(const T&, SaveContext&, std::string&)  iptables-save's spelling (the kernel's form)
//   encode(const T&, EntryWriter&) -> Status    its part of an ipt_entry / ip6t_entry
//   kXt / decode(...)                           which kernel extension it reads back from, and how
//   nft(const T&, const NftContext&, std::string&)  istio's nftables spelling (knftables text)
//   nft_expr(const T&, const NftContext&, Json&)     the expressions `nft -j list` shows for it
//
// The primary template is declared and never defined, and every form is dispatched with
// std::visit over the whole variant (ext/forms.h), so an alternative added to Match or Target
// does not compile until each of its forms exists. Text forms append to `out` without a
// separating space; the dispatcher adds it.
#pragma once

#include <array>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "ext/xt_entry.h"
#include "model/rule.h"

namespace snare {

template <typename T>
struct Ext;  // no definition: every match and target specializes it

// Where a match lives in the kernel entry, which orders iptables-save's output: the header
// fields first (-s -d -i -o -p), then the xt matches in the order they sit in the entry.
enum class SaveSlot { source, destination, in_iface, out_iface, proto, xt_match };

// State across one rule's save form: the tcp/udp match takes every --sport/--dport option of a
// rule, printed once as `-m tcp` where the first one was.
struct SaveContext {
  Family family = Family::v4;
  std::string_view open_l4;  // "tcp"/"udp" right after a port option; empty otherwise
};

// State across one rule's nftables forms: the family the rule is for (TPROXY writes `tproxy ip`
// or `tproxy ip6`).
struct NftContext {
  Scope scope = Scope::both;
  bool numeric_ids = false;  // owner ids as numbers (an apply's transaction), not as spelled
};

// A rule's expressions as libnftables lists them in JSON: an array of statement objects.
using Json = nlohmann::json;

// What decoding one kernel entry produced.
struct DecodedRule {
  Rule rule;                             // insert_at 0; table and chain left to the caller
  std::vector<std::string> unsupported;  // e.g. "-m comment (rev 0)"; empty: fully modelled
};

// The kernel extension an alternative is read back from: its name and revision, and the
// function that turns one of its payloads into matches (or the target). A header match has an
// empty name and reads the entry's header instead.
struct XtDecoder {
  const char* name;
  int revision;
  // Returns false when the payload holds something snare does not model.
  bool (*decode)(Family family, const XtView& xt, DecodedRule& out);
};

}  // namespace snare
