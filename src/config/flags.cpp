// The flag table and the raw parse (see flags.h). The table is the single source of every flag:
// its names, environment variables, default and help text.
#include "config/flags.h"

#include <fmt/format.h>

#include <cstdlib>
#include <initializer_list>

#include "config/argv.h"

namespace snare {
namespace {

struct FlagDef {
  Flag id;
  char short_name;  // '\0' when none
  const char* name;
  std::initializer_list<const char*> envs;  // primary first, then aliases (which win over it)
  const char* def;
  bool is_bool;
  const char* value_name;
  const char* help;
};

// clang-format off
constexpr FlagDef kFlags[] = {
  {Flag::envoy_port, 'p', "envoy-port", {}, "15001", false, "PORT", "outbound capture port: ISTIO_REDIRECT sends outbound TCP here"},
  {Flag::inbound_capture_port, 'z', "inbound-capture-port", {"INBOUND_CAPTURE_PORT"}, "15006", false, "PORT", "inbound capture port (REDIRECT --to-ports / TPROXY --on-port)"},
  {Flag::inbound_tunnel_port, 'e', "inbound-tunnel-port", {"INBOUND_TUNNEL_PORT"}, "15008", false, "PORT", "HBONE tunnel port, never captured inbound"},
  {Flag::proxy_uid, 'u', "proxy-uid", {"PROXY_UID"}, "", false, "LIST", "UID(s) of the proxy, whose traffic is not captured (empty: user $ENVOY_USER, default istio-proxy, else 1337)"},
  {Flag::proxy_gid, 'g', "proxy-gid", {"PROXY_GID"}, "", false, "LIST", "GID(s) of the proxy (empty: same as -u)"},
  {Flag::interception_mode, 'm', "istio-inbound-interception-mode", {"ISTIO_INBOUND_INTERCEPTION_MODE"}, "", false, "MODE", "inbound mode: REDIRECT (default) or TPROXY, any case"},
  {Flag::tproxy_mark, 't', "istio-inbound-tproxy-mark", {"ISTIO_INBOUND_TPROXY_MARK"}, "1337", false, "MARK", "TPROXY fwmark (decimal or 0x hex)"},
  {Flag::tproxy_route_table, 'r', "istio-inbound-tproxy-route-table", {"ISTIO_INBOUND_TPROXY_ROUTE_TABLE"}, "133", false, "TABLE", "TPROXY policy routing table"},
  {Flag::inbound_ports, 'b', "istio-inbound-ports", {"ISTIO_INBOUND_PORTS"}, "", false, "LIST", "inbound ports to capture: '*' for all, a list, or empty for none"},
  {Flag::local_exclude_ports, 'd', "istio-local-exclude-ports", {"ISTIO_LOCAL_EXCLUDE_PORTS"}, "", false, "LIST", "inbound ports not captured (only with -b '*')"},
  {Flag::exclude_interfaces, 'c', "istio-exclude-interfaces", {"ISTIO_EXCLUDE_INTERFACES"}, "", false, "LIST", "interfaces whose traffic is never captured"},
  {Flag::service_cidr, 'i', "istio-service-cidr", {"ISTIO_SERVICE_CIDR"}, "", false, "LIST", "outbound destination CIDRs to capture: '*' for all, a list, or empty for none"},
  {Flag::service_exclude_cidr, 'x', "istio-service-exclude-cidr", {"ISTIO_SERVICE_EXCLUDE_CIDR"}, "", false, "LIST", "outbound destination CIDRs never captured"},
  {Flag::outbound_ports, 'q', "istio-outbound-ports", {"ISTIO_OUTBOUND_PORTS"}, "", false, "LIST", "outbound TCP ports always captured, whatever the destination"},
  {Flag::local_outbound_ports_exclude, 'o', "istio-local-outbound-ports-exclude", {"ISTIO_LOCAL_OUTBOUND_PORTS_EXCLUDE"}, "", false, "LIST", "outbound ports never captured, TCP and UDP"},
  {Flag::kube_virt_interfaces, 'k', "kube-virt-interfaces", {"KUBE_VIRT_INTERFACES"}, "", false, "LIST", "virtual interfaces whose inbound traffic is treated as outbound"},
  {Flag::redirect_dns, '\0', "redirect-dns", {"REDIRECT_DNS", "ISTIO_META_DNS_CAPTURE"}, "false", true, "", "capture DNS (TCP and UDP port 53) to the agent on 15053"},
  {Flag::capture_all_dns, '\0', "capture-all-dns", {"CAPTURE_ALL_DNS"}, "false", true, "", "with --redirect-dns: capture port 53 to any server, not only the nameservers"},
  {Flag::dns_servers, '\0', "dns-servers", {}, "", false, "LIST", "nameservers for DNS capture; given, even empty, it replaces reading /etc/resolv.conf"},
  {Flag::drop_invalid, '\0', "drop-invalid", {"DROP_INVALID", "INVALID_DROP"}, "false", true, "", "drop packets conntrack marks INVALID"},
  {Flag::dual_stack, '\0', "dual-stack", {"DUAL_STACK", "ISTIO_DUAL_STACK"}, "false", true, "", "with --enable-ipv6=auto: IPv6 is on if any address is IPv6 (not only the first)"},
  {Flag::enable_ipv6, '\0', "enable-ipv6", {"ENABLE_INBOUND_IPV6"}, "auto", false, "auto|BOOL", "write IPv6 rules: auto (from the namespace's addresses, as istio), true or false (with --native-nftables, false still captures IPv6 and leaves out only IPv6 values)"},
  {Flag::outbound_owner_groups, '\0', "outbound-owner-groups", {"ISTIO_OUTBOUND_OWNER_GROUPS"}, "*", false, "LIST", "groups whose outbound traffic is captured: '*' or names/GIDs (at most 64)"},
  {Flag::outbound_owner_groups_exclude, '\0', "outbound-owner-groups-exclude", {"ISTIO_OUTBOUND_OWNER_GROUPS_EXCLUDE"}, "", false, "LIST", "groups whose outbound traffic is not captured (with owner groups '*')"},
  {Flag::host_ipv4_loopback_cidr, '\0', "host-ipv4-loopback-cidr", {"ISTIO_OUTBOUND_IPV4_LOOPBACK_CIDR"}, "127.0.0.1/32", false, "CIDR", "the IPv4 loopback CIDR the rules treat as localhost (127.x.x.x/8..32)"},
  {Flag::dry_run, 'n', "dry-run", {"DRY_RUN"}, "false", true, "", "print the rules on stdout; change nothing, needs no root"},
  {Flag::output_format, '\0', "output-format", {}, "restore", false, "FORMAT", "iptables dry-run text: restore (istio's iptables-restore input) or save (as iptables-save shows the kernel's rules); with --native-nftables: restore is istio's nft transaction, save the kernel's listing as `nft -j list` shows it"},
  {Flag::network_namespace, '\0', "network-namespace", {"NETWORK_NAMESPACE"}, "", false, "PATH", "enter this network namespace (/var/run/netns/x or /proc/PID/ns/net) before anything else"},
  {Flag::netns_pid, '\0', "netns-pid", {}, "", false, "PID", "enter the network namespace of this process"},
  {Flag::allow_host_netns, '\0', "allow-host-netns", {}, "false", true, "", "allow programming the host's initial network namespace (istio VM mode)"},
  {Flag::reconcile, '\0', "reconcile", {"RECONCILE"}, "false", true, "", "replace earlier, different istio rules in the same all-or-nothing apply (nftables mode: also move istio's legacy and iptables-nft rules to it)"},
  {Flag::cleanup_only, '\0', "cleanup-only", {"CLEANUP_ONLY"}, "false", true, "", "remove what these flags create (rules, chains, TPROXY routes, ::6), and istio's chains in iptables-nft's tables, and exit"},
  {Flag::force_apply, '\0', "force-apply", {"FORCE_APPLY"}, "false", true, "", "write the rules even when they are already in place"},
  {Flag::skip_rule_apply, '\0', "skip-rule-apply", {"SKIP_RULE_APPLY"}, "false", true, "", "do not program anything (with --run-validation, as istio-validation)"},
  {Flag::run_validation, '\0', "run-validation", {"RUN_VALIDATION"}, "false", true, "", "probe the rules with a connection to 127.0.0.6:<probe port>; exit 126 on failure"},
  {Flag::probe_port, '\0', "iptables-probe-port", {"IPTABLES_PROBE_PORT"}, "15002", false, "PORT", "validation probe port"},
  {Flag::probe_timeout, '\0', "probe-timeout", {"PROBE_TIMEOUT"}, "5s", false, "DURATION", "validation deadline (Go duration: 5s, 1.5s, 500ms)"},
  {Flag::cni_mode, '\0', "cni-mode", {"CNI_MODE"}, "false", true, "", "istio CNI's host-filesystem mode (not supported: run `snare cni`)"},
  {Flag::native_nftables, '\0', "native-nftables", {"NATIVE_NFTABLES"}, "false", true, "", "program native nftables (inet tables istio-proxy-nat/-mangle/-raw) as one nf_tables netlink batch, instead of legacy iptables"},
  {Flag::force_iptables_binary, '\0', "force-iptables-binary", {"FORCE_IPTABLES_BINARY"}, "", false, "legacy|nft", "istio's iptables binary choice: snare uses libiptc (legacy); 'legacy' is accepted, 'nft' is not supported yet (use --native-nftables)"},
  {Flag::log_output_level, '\0', "log_output_level", {}, "default:info", false, "LEVELS", "log level: <scope>:<level>,... or a level (debug, info, warn, error, fatal, none)"},
  {Flag::log_as_json, '\0', "log_as_json", {}, "false", true, "", "log JSON lines on stderr"},
};
// clang-format on

// The table is indexed by Flag: each row must sit at its own enum value.
constexpr bool table_in_enum_order() {
  for (size_t i = 0; i < std::size(kFlags); ++i)
    if (static_cast<size_t>(kFlags[i].id) != i) return false;
  return std::size(kFlags) == kFlagCount;
}
static_assert(table_in_enum_order(), "kFlags must list every Flag, in enum order");

const FlagDef& def(Flag f) { return kFlags[static_cast<size_t>(f)]; }

std::array<OptionSpec, kFlagCount> option_specs() {
  std::array<OptionSpec, kFlagCount> out;
  for (size_t i = 0; i < kFlagCount; ++i)
    out[i] = {kFlags[i].short_name, kFlags[i].name, kFlags[i].is_bool, kFlags[i].value_name,
              kFlags[i].help};
  return out;
}

std::string help_text(const std::string& command) {
  std::vector<std::string> extra;
  for (const FlagDef& f : kFlags) {
    std::string e = fmt::format(" (default \"{}\")", f.def);
    for (const char* env : f.envs)
      e += env == *f.envs.begin() ? fmt::format(" [env {}", env) : fmt::format(", alias {}", env);
    if (f.envs.size()) e += "]";
    extra.push_back(std::move(e));
  }
  return fmt::format(
      "{}: writes the rules that send a pod's TCP traffic through its sidecar proxy, as\n"
      "istio-iptables does, in-process (libiptc). Flags, environment variables and defaults are\n"
      "istio-iptables' (1.30).\n\nusage: {} [FLAGS]\n\n{}"
      "  -h, --help                                print this help and exit\n"
      "      --version                             print the version and exit\n\n"
      "Subcommands: snare [istio-iptables] FLAGS (apply), snare clean FLAGS, snare verify FLAGS,\n"
      "snare ambient [clean|verify] FLAGS, snare ambient-host FLAGS (istio's ambient mode; each\n"
      "has its own --help), snare proxy [--help], snare cni [print-flags|install] (istio-cni's\n"
      "plugin; `snare cni --help`), snare version. Precedence: flag > alias env > env > default.\n"
      "See README.md for every flag, exit codes and istio compatibility.\n",
      command, command, options_help(option_specs(), extra));
}

}  // namespace

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

std::string flag_label(Flag f) {
  const FlagDef& d = def(f);
  if (d.short_name) return fmt::format("-{} (--{})", d.short_name, d.name);
  return fmt::format("--{}", d.name);
}

Status parse_flags(const std::vector<std::string>& args, const EnvLookup& env,
                   const std::string& command, RawFlags& out) {
  static const std::array<OptionSpec, kFlagCount> kSpecs = option_specs();
  ArgvResult argv = parse_argv(kSpecs, args);
  if (!argv.error.empty())
    return Status::Fail(fmt::format("{} (run `{} --help` for the flags)", argv.error, command));
  out.help = argv.help;
  out.version = argv.version;
  if (out.help) {
    out.help_text = help_text(command);
    return Status::Ok();
  }
  for (size_t i = 0; i < kFlagCount; ++i) {
    const FlagDef& f = kFlags[i];
    RawValue& v = out.values[i];
    v = RawValue{f.def, {}, false};
    // Environment first (primary, then aliases, which win), then the command line.
    for (const char* e : f.envs)
      if (auto val = env(e)) v = RawValue{std::move(*val), fmt::format("environment {}", e), true};
    if (argv.values[i]) v = RawValue{std::move(*argv.values[i]), {}, true};
    if (v.source.empty()) v.source = v.given ? flag_label(f.id) : "default of " + flag_label(f.id);
  }
  return Status::Ok();
}

}  // namespace snare
