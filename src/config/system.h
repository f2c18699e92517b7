// System: what snare reads from the machine to complete a Config, behind one seam so tests use a
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
#include "model/rule.h"

namespace snare {

class System {
 public:
  virtual ~System() = default;
  virtual std::optional<uint32_t> user_id(const std::string& name) = 0;
  virtual std::optional<uint32_t> group_id(const std::string& name) = 0;
  // Addresses of the current network namespace's interfaces, in the kernel's order, as text.
  virtual std::vector<std::string> interface_addresses() = 0;
  virtual std::optional<std::string> read_file(const std::string& path) = 0;
  // The entries of a directory in readdir order ("." and ".." left out); empty when unreadable.
  virtual std::vector<std::string> list_dir(const std::string& path) = 0;
};

// The real one: getpwnam_r/getgrnam_r, getifaddrs, files.
System& real_system();

// istio's FillConfigFromEnvironment: default proxy UID/GID, IPv6 on or off, DNS servers.
Status fill_config(Config& cfg, System& sys, const EnvLookup& env,
                   std::vector<std::string>& warnings);

// istio's getLocalIP decision for IPv6 from a list of addresses (exposed for tests). Sets `found`
// when any usable address exists.
bool ipv6_from_addresses(const std::vector<std::string>& addrs, bool dual_stack, bool& found);

// Nameservers from resolv.conf text.
void parse_resolv_conf(const std::string& text, std::vector<std::string>& v4,
                       std::vector<std::string>& v6);

// The ambient commands' part of istio's fill-in: `snare ambient-host --native-nftables` without
// --kubelet-uid takes kubelet's UID the way istio-cni does (find_kubelet_uid on /proc).
Status fill_ambient_config(Config& cfg, System& sys);

// istio-cni's kubelet UID lookup: the first process in `proc` (readdir order, ascending PIDs)
// whose comm is exactly "kubelet" or "kubelite" and one of whose arguments contains "kubelet"
// (any case); its real UID, in decimal. nullopt when there is none.
std::optional<std::string> find_kubelet_uid(System& sys, const std::string& proc = "/proc");

// Replaces user and group names in owner matches with their numbers (the kernel stores numbers;
// iptables resolves them at insert time). An unknown name is an error that names it.
Status resolve_names(Plan& plan, System& sys, const Config& cfg);

}  // namespace snare
