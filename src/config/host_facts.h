// HostFacts: what snare reads from the machine to complete a Config, behind one seam so tests use a
// hand-written fake. istio reads the same things (user lookup, interface addresses,
// /etc/resolv.conf); snare adds flags that replace each of them for a deterministic dry-run.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace snare {

class HostFacts {
 public:
  virtual ~HostFacts() = default;
  virtual std::optional<uint32_t> user_id(const std::string& name) = 0;
  virtual std::optional<uint32_t> group_id(const std::string& name) = 0;
  // Addresses of the current network namespace's interfaces, in the kernel's order, as text.
  virtual std::vector<std::string> interface_addresses() = 0;
  virtual std::optional<std::string> read_file(const std::string& path) = 0;
  // The entries of a directory in readdir order ("." and ".." left out); empty when unreadable.
  virtual std::vector<std::string> list_dir(const std::string& path) = 0;
};

// The real one: getpwnam_r/getgrnam_r, getifaddrs, files.
HostFacts& real_host_facts();

}  // namespace snare
