// FaultInjectingTables: a TablesBackend decorator that makes the Nth commit report a failure
// after it went through (N = 0: the first commit fails before it is made), so that tests can
// prove the rollback against the real kernel. The composition root wraps the real backend in
// it when SNARE_FAULT_AFTER_COMMITS=N is set; nothing else knows about it.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "kernel/nft_backend.h"
#include "kernel/tables.h"

namespace snare {

class FaultInjectingTables : public TablesBackend {
 public:
  FaultInjectingTables(TablesBackend& inner, int fail_after)
      : inner_(inner), fail_after_(fail_after) {}
  FaultInjectingTables(std::unique_ptr<TablesBackend> owned, int fail_after)
      : owned_(std::move(owned)), inner_(*owned_), fail_after_(fail_after) {}
  std::string name() const override { return inner_.name(); }
  Status read(Family f, Table t, TableModel& out) override { return inner_.read(f, t, out); }
  Status write(const TableModel& desired, bool& committed) override;

 private:
  std::unique_ptr<TablesBackend> owned_;  // null when the caller owns the inner backend
  TablesBackend& inner_;
  int fail_after_;
  int commits_ = 0;
  bool fired_ = false;  // once: the rollback's own writes go through
};

// The same for nftables: the Nth transaction reports a failure after it went through (0: the
// first fails before it is made); the rollback's own transaction goes through.
class FaultInjectingNft : public NftBackend {
 public:
  FaultInjectingNft(NftBackend& inner, int fail_after) : inner_(inner), fail_after_(fail_after) {}
  FaultInjectingNft(std::unique_ptr<NftBackend> owned, int fail_after)
      : owned_(std::move(owned)), inner_(*owned_), fail_after_(fail_after) {}
  std::string name() const override { return inner_.name(); }
  Status inet_tables(std::vector<std::string>& names,
                     std::map<std::string, uint32_t>& flags) override {
    return inner_.inet_tables(names, flags);
  }
  Status list_table(const std::string& table, bool json, std::string& out) override {
    return inner_.list_table(table, json, out);
  }
  Status list_chain(const std::string& table, const std::string& chain, std::string& out) override {
    return inner_.list_chain(table, chain, out);
  }
  Status run(const std::string& commands, bool& committed) override;
  Status read_netlink(uint32_t family, const std::vector<std::string>& names,
                      NlForm& out) override {
    return inner_.read_netlink(family, names, out);
  }
  Status write_netlink(const NlBatch& batch, bool& committed) override;
  Status ip_tables(std::vector<std::string>& names) override { return inner_.ip_tables(names); }
  Status list_ip_table(const std::string& table, std::string& json) override {
    return inner_.list_ip_table(table, json);
  }
  Status list_ruleset(std::string& json) override { return inner_.list_ruleset(json); }
  Status open() override { return inner_.open(); }

 private:
  template <typename Write>
  Status counted(Write write, bool& committed);
  std::unique_ptr<NftBackend> owned_;  // null when the caller owns the inner backend
  NftBackend& inner_;
  int fail_after_;
  int commits_ = 0;
  bool fired_ = false;
};

// SNARE_FAULT_AFTER_COMMITS as a count, or nothing when unset or not a number 0-1000.
std::optional<int> fault_after_commits(const char* value);

}  // namespace snare
