// FakeIpsets: the kernel's ip_set table in memory behind the IpsetOps seam. Sets get indices in
// creation order (a destroyed set's index is free again, as in the kernel); `references` keeps a
// set from being destroyed ("in use", as a rule that references it does); `fail_create` names a
// set whose creation fails. Every call that changes something is appended to `calls`.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "kernel/ipset.h"

namespace snare::testing {

class FakeIpsets : public IpsetOps {
 public:
  struct Set {
    IpsetInfo info;
    uint16_t index = 0;
  };
  std::map<std::string, Set> sets;
  std::vector<std::string> calls;
  std::string fail_create;

  // A set as istio-cni creates it (or another definition, for the refusals).
  void put(const std::string& name, const std::string& type = "hash:ip",
           const std::string& family = "inet", bool comment = true) {
    sets[name] = Set{IpsetInfo{type, family, comment, 0, {}}, free_index()};
  }

  Status get(const std::string& name, bool& found, IpsetInfo& out) override {
    auto it = sets.find(name);
    found = it != sets.end();
    out = found ? it->second.info : IpsetInfo{};
    return Status::Ok();
  }
  Status create(const std::string& name, Family family) override {
    calls.push_back("create " + name);
    if (name == fail_create) return Status::Fail("creating ipset " + name + ": injected");
    if (!sets.count(name)) put(name, "hash:ip", family == Family::v4 ? "inet" : "inet6");
    return Status::Ok();
  }
  Status destroy(const std::string& name) override {
    calls.push_back("destroy " + name);
    auto it = sets.find(name);
    if (it == sets.end()) return Status::Fail("destroying ipset " + name + ": no such set");
    if (it->second.info.references > 0)
      return Status::Fail("destroying ipset " + name +
                          ": the set is in use (a rule references it)");
    sets.erase(it);
    return Status::Ok();
  }
  Status add(const std::string& name, const std::string& ip, const std::string& comment) override {
    calls.push_back(fmt::format("add {} {} {}", name, ip, comment));
    auto* m = member(name, ip);
    if (m)
      m->comment = comment;
    else
      sets.at(name).info.members.push_back({ip, comment});
    return Status::Ok();
  }
  Status del(const std::string& name, const std::string& ip) override {
    calls.push_back(fmt::format("del {} {}", name, ip));
    auto& ms = sets.at(name).info.members;
    ms.erase(std::remove_if(ms.begin(), ms.end(), [&](const IpsetMember& x) { return x.ip == ip; }),
             ms.end());
    return Status::Ok();
  }
  std::optional<uint16_t> index_of(const std::string& name) override {
    auto it = sets.find(name);
    if (it == sets.end()) return std::nullopt;
    return it->second.index;
  }
  std::optional<std::string> name_of(uint16_t index) override {
    for (const auto& [name, s] : sets)
      if (s.index == index) return name;
    return std::nullopt;
  }

  IpsetMember* member(const std::string& name, const std::string& ip) {
    for (IpsetMember& m : sets.at(name).info.members)
      if (m.ip == ip) return &m;
    return nullptr;
  }

 private:
  uint16_t free_index() const {
    for (uint16_t i = 0;; ++i)
      if (std::none_of(sets.begin(), sets.end(),
                       [&](const auto& s) { return s.second.index == i; }))
        return i;
  }
};

}  // namespace snare::testing
