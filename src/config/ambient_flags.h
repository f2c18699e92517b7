// The flags of `snare ambient` (istio-cni's in-pod redirection) and `snare ambient-host` (its
// node-side health-probe SNAT): one table for both commands, each row saying which command takes
// it, parsed the way the sidecar's flags are (config/flags.h): pflag's argv grammar
// (config/argv.h), then every raw value through the parsers of base/parse.h into a Config.
//
// The flags stand for the node agent's inputs: its global settings (environment
// AMBIENT_DNS_CAPTURE, AMBIENT_IPV6, NATIVE_NFTABLES, as istio's helm chart renders them), the
// pod's annotations (--pod-dns-capture, --bypass-inbound-capture, --reroute-virtual-interfaces)
// and the probe SNAT addresses (README.md, "snare ambient").
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "config/config.h"
#include "config/flags.h"

namespace snare {

// Every flag of the two commands, by a name the compiler checks. The order is --help's.
enum class AmbientFlag : uint8_t {
  dns_capture,
  pod_dns_capture,
  bypass_inbound_capture,
  reroute_virtual_interfaces,
  enable_ipv6,
  probe_snat_ipv4,
  probe_snat_ipv6,
  kubelet_uid,
  native_nftables,
  dry_run,
  output_format,
  network_namespace,
  netns_pid,
  allow_host_netns,
  log_output_level,
  log_as_json,
  count_,
};
constexpr size_t kAmbientFlagCount = static_cast<size_t>(AmbientFlag::count_);

struct AmbientRawFlags {
  std::array<RawValue, kAmbientFlagCount> values;  // the command's flags; others stay default
  bool help = false;
  bool version = false;
  std::string help_text;
  const RawValue& operator[](AmbientFlag f) const { return values[static_cast<size_t>(f)]; }
};

// `command` is Command::ambient or Command::ambient_host; `name` names it for messages ("snare
// ambient"). A flag of the other command is an unknown flag.
Status parse_ambient_flags(Command command, const std::vector<std::string>& args,
                           const EnvLookup& env, const std::string& name, AmbientRawFlags& out);

// Validates every value into `out` (command, ambient options, families, where and how).
Status make_ambient_config(Command command, const AmbientRawFlags& raw, Config& out);

}  // namespace snare
