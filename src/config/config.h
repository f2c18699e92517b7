// Config: everything the flags and environment ask for, validated, as plain data.
//
// Lists are already split on commas with empty elements dropped (istio's config.Split). String
// values keep istio's spelling so that the builder can paste them into rules as istio does.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/log.h"

namespace snare {

enum class InterceptMode { redirect, tproxy };
enum class Ipv6Mode { automatic, on, off };
enum class OutputFormat { restore, save };
// Which rule command a Config is for: `snare` (istio-iptables, the sidecar), `snare ambient`
// (the in-pod redirection istio-cni's node agent writes) or `snare ambient-host` (its node-side
// health-probe SNAT).
enum class Command { sidecar, ambient, ambient_host };

// The inputs of istio-cni's node agent that `snare ambient` / `snare ambient-host` take as flags.
struct AmbientOptions {
  bool dns_capture = true;                      // --dns-capture (istio's global RedirectDNS)
  std::optional<bool> pod_dns_capture;          // --pod-dns-capture (the pod annotation); unset:
                                                // follows dns_capture
  bool bypass_inbound_capture = false;          // --bypass-inbound-capture (istio's ingress mode)
  std::vector<std::string> virtual_interfaces;  // --reroute-virtual-interfaces
  std::string probe_snat_v4 = "169.254.7.127";  // --probe-snat-ipv4, canonical text
  std::string probe_snat_v6 = "fd16:9254:7127:1337:ffff:ffff:ffff:ffff";  // --probe-snat-ipv6
  std::optional<uint32_t> kubelet_uid;  // --kubelet-uid (ambient-host, nftables: the rule's skuid)
  // The DNS capture the pod gets: its own setting, else the global one.
  bool dns_effective() const { return pod_dns_capture.value_or(dns_capture); }
};

// istio-cni's node probe sets: the IPs of the ambient pods whose probes the node SNATs, one set
// per family (ambient-host creates them; its agent, or `snare ambient-host probe`, fills them),
// in the node's ipsets (iptables mode) or in nftables' inet istio-ambient-nat.
constexpr const char* kProbeSetV4 = "istio-inpod-probes-v4";
constexpr const char* kProbeSetV6 = "istio-inpod-probes-v6";
constexpr const char* kProbeSetComment = "UUID of the pods that are part of ambient mesh";

// A UID or GID from a flag: its spelling (a number or a name, pasted into rules as istio does)
// and its number (what the kernel gets). make_config fills the number of a numeric spelling,
// fill_config resolves a name; only a restore-form dry-run may leave one unresolved.
struct OwnerId {
  std::string spelling;
  std::optional<uint32_t> number;
  bool operator==(const OwnerId&) const = default;
};

struct Config {
  Command command = Command::sidecar;
  AmbientOptions ambient;  // command ambient / ambient_host only
  // capture ports
  std::string proxy_port = "15001";            // -p
  std::string inbound_capture_port = "15006";  // -z
  std::string inbound_tunnel_port = "15008";   // -e
  // identity of the proxy
  std::vector<OwnerId> proxy_uids;  // -u (empty flag: ENVOY_USER lookup, else 1337)
  std::vector<OwnerId> proxy_gids;  // -g (empty flag: same as -u)
  // inbound
  InterceptMode mode = InterceptMode::redirect;  // -m
  std::string tproxy_mark = "1337";              // -t, as given
  uint32_t tproxy_mark_value = 1337;             // -t, parsed
  std::string tproxy_route_table = "133";        // -r
  uint32_t tproxy_route_table_value = 133;
  bool inbound_ports_all = false;               // -b '*'
  std::vector<std::string> inbound_ports;       // -b list
  std::vector<std::string> inbound_exclude;     // -d
  std::vector<std::string> exclude_interfaces;  // -c
  // outbound
  bool outbound_cidrs_all = false;             // -i '*'
  std::vector<std::string> outbound_cidrs_v4;  // -i
  std::vector<std::string> outbound_cidrs_v6;
  bool outbound_cidrs_have_loopback = false;
  std::vector<std::string> exclude_cidrs_v4;  // -x
  std::vector<std::string> exclude_cidrs_v6;
  std::vector<std::string> outbound_ports;          // -q
  std::vector<std::string> outbound_ports_exclude;  // -o
  std::vector<std::string> reroute_interfaces;      // -k
  // owner groups (ISTIO_OUTBOUND_OWNER_GROUPS[_EXCLUDE])
  bool owner_groups_all = true;               // include == "*"
  std::vector<OwnerId> owner_groups_include;  // include list (may be empty but set)
  std::vector<OwnerId> owner_groups_exclude;
  std::string ipv4_loopback_cidr = "127.0.0.1/32";  // --host-ipv4-loopback-cidr
  // DNS
  bool redirect_dns = false;
  bool capture_all_dns = false;
  bool dns_servers_given = false;  // --dns-servers (even empty) replaces /etc/resolv.conf
  std::vector<std::string> dns_servers_v4;
  std::vector<std::string> dns_servers_v6;
  // families
  bool drop_invalid = false;
  bool dual_stack = false;
  Ipv6Mode ipv6 = Ipv6Mode::automatic;
  bool ipv6_enabled = false;  // resolved from `ipv6` before the build
  // where and how
  std::string network_namespace;  // --network-namespace PATH
  int netns_pid = 0;              // --netns-pid PID
  bool allow_host_netns = false;
  bool dry_run = false;
  OutputFormat output_format = OutputFormat::restore;
  bool reconcile = false;
  bool cleanup_only = false;
  bool force_apply = false;
  // The ambient commands replace istio rules an earlier run left with other flags, without
  // --reconcile: istio's agent reconciles in-pod rules by default and deletes and recreates the
  // node's rules at every start.
  bool replace_earlier_rules = false;
  bool skip_rule_apply = false;
  bool run_validation = false;
  uint16_t probe_port = 15002;
  std::chrono::milliseconds probe_timeout{5000};
  bool cni_mode = false;
  bool native_nftables = false;
  std::string force_iptables_binary;
  // logging
  LogLevel log_level = LogLevel::info;
  bool log_as_json = false;
};

}  // namespace snare
