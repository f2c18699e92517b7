// The fault decorator (see fault.h).
#include "apply/fault.h"

#include <fmt/format.h>

#include "base/parse.h"

namespace snare {

Status FaultInjectingTables::write(const TableModel& desired, bool& committed) {
  committed = false;
  auto fault = [&] {
    fired_ = true;
    return Status::Fail(
        fmt::format("SNARE_FAULT_AFTER_COMMITS={}: failure injected after {} table commit(s)",
                    fail_after_, commits_));
  };
  if (!fired_ && fail_after_ == 0) return fault();
  Status s = inner_.write(desired, committed);
  if (!s.ok() || fired_) return s;
  if (++commits_ == fail_after_) return fault();
  return s;
}

// Both kinds of transaction count: the apply's netlink batch and a rollback's text.
template <typename Write>
Status FaultInjectingNft::counted(Write write, bool& committed) {
  committed = false;
  auto fault = [&] {
    fired_ = true;
    return Status::Fail(fmt::format(
        "SNARE_FAULT_AFTER_COMMITS={}: failure injected after {} nftables transaction(s)",
        fail_after_, commits_));
  };
  if (!fired_ && fail_after_ == 0) return fault();
  Status s = write();
  if (!s.ok() || fired_) return s;
  if (++commits_ == fail_after_) return fault();
  return s;
}

Status FaultInjectingNft::run(const std::string& commands, bool& committed) {
  return counted([&] { return inner_.run(commands, committed); }, committed);
}

Status FaultInjectingNft::write_netlink(const NlBatch& batch, bool& committed) {
  return counted([&] { return inner_.write_netlink(batch, committed); }, committed);
}

std::optional<int> fault_after_commits(const char* value) {
  if (!value || !*value) return std::nullopt;
  auto n = parse_u32(value);
  if (!n.ok() || n.value > 1000) return std::nullopt;
  return static_cast<int>(n.value);
}

}  // namespace snare
