// The difference between two netlink forms of istio's nftables tables, as `snare verify` and a
// refused apply print it: a line diff (render/diff.h) per table, "-" for lines only the kernel
// has and "+" for lines missing from it. A rule the flags create is shown by its label (istio's
// text); a kernel rule equal to one of them is shown by that label too, and any other rule by its
// expressions in nft's netlink notation (`[ meta load l4proto => reg 1 ] [ cmp eq reg 1 ... ]`).
#pragma once

#include <string>
#include <vector>

#include "model/netlink_form.h"

namespace snare {

std::string diff_netlink_forms(const NlForm& have, const NlForm& want);

// A set's definition in one line: `type 7 len 4 flags 0x0 comment "..."`-like, for messages.
std::string netlink_set_text(const NlSet& set);

}  // namespace snare
