// The rule commands' flags: istio-iptables' names, short forms, environment variables, defaults
// and precedence (CLI > alias env > primary env > default), plus snare's own flags.
//
// Two steps, so that every value, from argv or from the environment, goes through the same
// checks: parse_flags() collects the raw strings (argv in pflag's grammar, config/argv.h), then
// make_config() validates them into a Config with the parsers of base/parse.h. Neither touches
// the system: what istio reads from the machine (user lookup, addresses, resolv.conf) is filled
// in afterwards (config/fill_config.h, through the HostFacts seam of config/host_facts.h).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "config/config.h"

namespace snare {

// Every flag, by a name the compiler checks. The order is --help's.
enum class Flag : uint8_t {
  envoy_port,
  inbound_capture_port,
  inbound_tunnel_port,
  proxy_uid,
  proxy_gid,
  interception_mode,
  tproxy_mark,
  tproxy_route_table,
  inbound_ports,
  local_exclude_ports,
  exclude_interfaces,
  service_cidr,
  service_exclude_cidr,
  outbound_ports,
  local_outbound_ports_exclude,
  kube_virt_interfaces,
  redirect_dns,
  capture_all_dns,
  dns_servers,
  drop_invalid,
  dual_stack,
  enable_ipv6,
  outbound_owner_groups,
  outbound_owner_groups_exclude,
  host_ipv4_loopback_cidr,
  dry_run,
  output_format,
  network_namespace,
  netns_pid,
  allow_host_netns,
  reconcile,
  cleanup_only,
  force_apply,
  skip_rule_apply,
  run_validation,
  probe_port,
  probe_timeout,
  cni_mode,
  native_nftables,
  force_iptables_binary,
  log_output_level,
  log_as_json,
  count_,
};
constexpr size_t kFlagCount = static_cast<size_t>(Flag::count_);

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup process_env();

// One flag's raw value and where it came from (for error messages).
struct RawValue {
  std::string value;
  std::string source;  // "-b (--istio-inbound-ports)" or "environment ISTIO_INBOUND_PORTS"
  bool given = false;  // on the command line or in the environment
};

struct RawFlags {
  std::array<RawValue, kFlagCount> values;  // every flag, defaults included
  bool help = false;
  bool version = false;
  std::string help_text;
  const RawValue& operator[](Flag f) const { return values[static_cast<size_t>(f)]; }
};

// `command` names the subcommand for help text ("snare", "snare clean", "snare verify").
// On a parse error, returns a Status naming the flag; --help sets `help`.
Status parse_flags(const std::vector<std::string>& args, const EnvLookup& env,
                   const std::string& command, RawFlags& out);

// Validates every value. Warnings (istio quirks snare keeps) go to `warnings`.
Status make_config(const RawFlags& raw, Config& out, std::vector<std::string>& warnings);

// "-p (--envoy-port)" or "--dns-servers": how errors name a flag.
std::string flag_label(Flag f);

}  // namespace snare
