// HostFacts: what snare reads from the machine to complete a Config, behind one seam so tests use a
// hand-written fake. istio reads the same things (user lookup, interface addresses,
// /etc/resolv.conf); snare adds flags that replace each of them for a deterministic dry-run.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "config/config.h"
#include "config/flags.h"

namespace snare {

class HostFacts {
 public:
  virtual ~HostFacts() = default;
  virtual std::optional<uint32_t> user_id(const std::string& name) = 0;
  virtual std::optional<uint32_t> group_id(const std::string& name) = 0;
  // Addresses of the current network namespace's interfaces, in the kernel's order, as text.
  virtual std::vector<std::string> interface_addresses() = 0;
  virtual std::optional<std::string> read_file(const std::string& path) = 0;
};

// The real one: getpwnam_r/getgrnam_r, getifaddrs, files.
HostFacts& real_host_facts();

// istio's FillConfigFromEnvironment: default proxy UID/GID, IPv6 on or off, DNS servers; and
// snare's one resolution of the owner flags' user and group names to numbers.
Status fill_config(Config& cfg, HostFacts& host, const EnvLookup& env,
                   std::vector<std::string>& warnings);

// istio's getLocalIP decision for IPv6 from a list of addresses (exposed for tests). Sets `found`
// when any usable address exists.
bool ipv6_from_addresses(const std::vector<std::string>& addrs, bool dual_stack, bool& found);

// Nameservers from resolv.conf text.
void parse_resolv_conf(const std::string& text, std::vector<std::string>& v4,
                       std::vector<std::string>& v6);

}  // namespace snare
