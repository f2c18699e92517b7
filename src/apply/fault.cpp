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

Status FaultInjectingNft::run(const std::string& commands, bool& committed) {
  committed = false;
  auto fault = [&] {
    fired_ = true;
    return Status::Fail(fmt::format(
        "SNARE_FAULT_AFTER_COMMITS={}: failure injected after {} nftables transaction(s)",
        fail_after_, commits_));
  };
  if (!fired_ && fail_after_ == 0) return fault();
  Status s = inner_.run(commands, committed);
  if (!s.ok() || fired_) return s;
  if (++commits_ == fail_after_) return fault();
  return s;
}

std::optional<int> fault_after_commits(const char* value) {
  if (!value || !*value) return std::nullopt;
  auto n = parse_u32(value);
  if (!n.ok() || n.value > 1000) return std::nullopt;
  return static_cast<int>(n.value);
}

}  // namespace snare
