// The netlink form (model/netlink_form.h) as nft prints it with `--debug=netlink`: one line per
// expression (`[ meta load l4proto => reg 1 ]`, `[ cmp eq reg 1 0x00000006 ]`), data as the
// kernel's 32-bit words in host order. verify shows drift in it; the oracle test compares it with
// nft's own output.
#pragma once

#include <string>

#include "model/netlink_form.h"

namespace snare {

// `[ payload load 2b @ transport header + 2 => reg 1 ]`.
std::string netlink_text(const NlExpr& expr);

// An anonymous set as nft prints it before the rule that looks it up: its declaration line
// (`__set%d TABLE FLAGS size N`), its elements' (`__set%d TABLE 0`) and the elements
// (`\telement 00003500  : 0 [end]` each), each line ending in '\n'.
std::string netlink_text(const NlSet& set, const std::string& table);

// A rule: its anonymous sets, then `inet TABLE CHAIN` and one indented line per expression, and a
// blank line (nft's layout).
std::string netlink_text(const NlRule& rule, const std::string& table, const std::string& chain);

// Every rule of every chain of every table, in order (no chain or table lines).
std::string netlink_text(const NlForm& form);

}  // namespace snare
