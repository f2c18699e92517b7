// A netlink batch (model/netlink_form.h) as lines in nft's command language, one per operation
// and object: `add table inet istio-proxy-nat`, `add chain ...`, a rule as its label (istio's text,
// `add rule inet istio-proxy-nat istio-output ...`), `delete rule ip nat OUTPUT handle 9`. For
// the debug log of an apply and for tests that compare what an apply sends with istio's goldens;
// the kernel gets the batch itself, never this text.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/netlink_form.h"

namespace snare {

std::vector<std::string> netlink_batch_lines(const NlBatch& batch);

}  // namespace snare
