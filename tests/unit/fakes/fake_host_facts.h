// A hand-written fake of the HostFacts seam: users, groups, addresses and files set by the test.
#pragma once

#include <map>

#include "config/host_facts.h"

namespace snare::testing {

class FakeHostFacts : public HostFacts {
 public:
  std::map<std::string, uint32_t> users, groups;
  std::vector<std::string> addresses;
  std::map<std::string, std::string> files;
  std::map<std::string, std::vector<std::string>> dirs;  // path -> entries, in readdir order

  std::optional<uint32_t> user_id(const std::string& n) override {
    auto it = users.find(n);
    return it == users.end() ? std::nullopt : std::optional<uint32_t>(it->second);
  }
  std::optional<uint32_t> group_id(const std::string& n) override {
    auto it = groups.find(n);
    return it == groups.end() ? std::nullopt : std::optional<uint32_t>(it->second);
  }
  std::vector<std::string> interface_addresses() override { return addresses; }
  std::optional<std::string> read_file(const std::string& p) override {
    auto it = files.find(p);
    return it == files.end() ? std::nullopt : std::optional<std::string>(it->second);
  }
  std::vector<std::string> list_dir(const std::string& p) override {
    auto it = dirs.find(p);
    return it == dirs.end() ? std::vector<std::string>{} : it->second;
  }
};

}  // namespace snare::testing
