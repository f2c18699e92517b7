// The composition root: the Commands the CLI runs, wired to the kernel (libiptc, or libnftables
// in nftables mode, each behind the fault decorator when SNARE_FAULT_AFTER_COMMITS is set; libnl;
// validation; snare proxy). The mains are a call to it.
#pragma once

#include "cli/cli.h"

namespace snare {

Commands make_commands();

}  // namespace snare
