// fill_config: completes a Config with what only the machine knows, read through the HostFacts
// seam (config/host_facts.h).
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "config/config.h"
#include "config/flags.h"
#include "config/host_facts.h"

namespace snare {

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

// The ambient commands' part of istio's fill-in: `snare ambient-host --native-nftables` without
// --kubelet-uid takes kubelet's UID the way istio-cni does (find_kubelet_uid on /proc).
Status fill_ambient_config(Config& cfg, HostFacts& host);

// istio-cni's kubelet UID lookup: the first process in `proc` (readdir order, ascending PIDs)
// whose comm is exactly "kubelet" or "kubelite" and one of whose arguments contains "kubelet"
// (any case); its real UID. nullopt when there is none.
std::optional<uint32_t> find_kubelet_uid(HostFacts& host, const std::string& proc = "/proc");

}  // namespace snare
