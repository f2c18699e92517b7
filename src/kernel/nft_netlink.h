// nf_tables over netlink with libnftnl and libmnl, no libnftables: one batch written from an
// NlBatch and tables dumped into an NlForm (model/netlink_form.h). The LibNftables backend's
// read_netlink and write_netlink (kernel/nft_backend.h) are these two; both work in the calling
// thread's network namespace.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/netlink_form.h"

namespace snare {

// The tables `names` of `family`: flags, chains in the kernel's order with their rules, named
// sets (members aside), anonymous sets inside the lookups that use them, every other object as
// "KIND NAME". A name that is not there is left out; `out` follows the order of `names`.
Status nl_read_tables(uint32_t family, const std::vector<std::string>& names, NlForm& out);

// One batch: the kernel applies all of it or none. `committed` is true only when it did. A
// kernel error names the operation that failed ("nftables: Operation not supported: add rule
// inet T C ...", a rule by its NlRule::label).
Status nl_write_batch(const NlBatch& batch, bool& committed);

// Which operation each message of a batch stands for, by sequence number: a kernel error
// carries the number of the message it is about.
class NlSeqMap {
 public:
  void add(uint32_t seq, std::string what) { what_[seq] = std::move(what); }
  // The operation of message `seq`; "the batch" for a number no message has (the batch's own
  // begin and end messages, whose errors are about the whole commit).
  std::string what(uint32_t seq) const {
    auto it = what_.find(seq);
    return it == what_.end() ? "the batch" : it->second;
  }

 private:
  std::map<uint32_t, std::string> what_;
};

// The one-line error for a kernel error `err` (an errno value) on `what`.
std::string nl_error_text(int err, const std::string& what);

}  // namespace snare
