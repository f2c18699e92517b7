// The ambient commands' flag table and its parse (see ambient_flags.h).
#include "config/ambient_flags.h"

#include <fmt/format.h>

#include <initializer_list>

#include "base/parse.h"
#include "config/argv.h"

namespace snare {
namespace {

struct AmbientFlagDef {
  AmbientFlag id;
  const char* name;
  std::initializer_list<const char*> envs;
  const char* def;
  bool is_bool;
  const char* value_name;
  bool inpod;  // `snare ambient` takes it
  bool host;   // `snare ambient-host` takes it
  const char* help;
};

// clang-format off
constexpr AmbientFlagDef kAmbientFlags[] = {
  {AmbientFlag::dns_capture, "dns-capture", {"AMBIENT_DNS_CAPTURE"}, "true", true, "", true, false, "capture the pod's DNS (UDP and TCP port 53) to ztunnel's DNS proxy on 15053: istio's global setting"},
  {AmbientFlag::pod_dns_capture, "pod-dns-capture", {}, "", true, "", true, false, "the pod's own DNS setting (annotation ambient.istio.io/dns-capture); unset: --dns-capture decides"},
  {AmbientFlag::bypass_inbound_capture, "bypass-inbound-capture", {}, "false", true, "", true, false, "leave the pod's inbound traffic uncaptured (annotation ambient.istio.io/bypass-inbound-capture)"},
  {AmbientFlag::reroute_virtual_interfaces, "reroute-virtual-interfaces", {}, "", false, "LIST", true, false, "interfaces whose inbound TCP goes to ztunnel's outbound port 15001 (annotation istio.io/reroute-virtual-interfaces)"},
  {AmbientFlag::enable_ipv6, "enable-ipv6", {"AMBIENT_IPV6"}, "true", true, "", true, true, "write the IPv6 rules (and routes; ambient-host: the -v6 probe set) too"},
  {AmbientFlag::probe_snat_ipv4, "probe-snat-ipv4", {}, "169.254.7.127", false, "ADDR", true, true, "the source address the node gives kubelet's health probes (istio's HOST_PROBE_SNAT_IP)"},
  {AmbientFlag::probe_snat_ipv6, "probe-snat-ipv6", {}, "fd16:9254:7127:1337:ffff:ffff:ffff:ffff", false, "ADDR", true, true, "the same for IPv6 (istio's HOST_PROBE_SNAT_IPV6)"},
  {AmbientFlag::kubelet_uid, "kubelet-uid", {}, "", false, "N", false, true, "kubelet's UID, the owner of the probes' sockets (--native-nftables: the rule's skuid); empty: the UID of the kubelet (or kubelite) process in /proc, as istio-cni finds it"},
  {AmbientFlag::native_nftables, "native-nftables", {"NATIVE_NFTABLES"}, "false", true, "", true, true, "nftables (inet tables istio-ambient-nat/-mangle/-raw) instead of legacy iptables"},
  {AmbientFlag::dry_run, "dry-run", {}, "false", true, "", true, true, "print the rules on stdout; change nothing, needs no root"},
  {AmbientFlag::output_format, "output-format", {}, "restore", false, "FORMAT", true, true, "dry-run text: restore (istio's iptables-restore input or nft transaction) or save (the kernel's form: iptables-save, or `nft -j list`)"},
  {AmbientFlag::network_namespace, "network-namespace", {}, "", false, "PATH", true, false, "enter this network namespace (/var/run/netns/x or /proc/PID/ns/net) before anything else"},
  {AmbientFlag::netns_pid, "netns-pid", {}, "", false, "PID", true, false, "enter the network namespace of this process"},
  {AmbientFlag::allow_host_netns, "allow-host-netns", {}, "false", true, "", true, false, "allow programming the host's initial network namespace (as the sidecar command)"},
  {AmbientFlag::log_output_level, "log_output_level", {}, "default:info", false, "LEVELS", true, true, "log level: <scope>:<level>,... or a level (debug, info, warn, error, fatal, none)"},
  {AmbientFlag::log_as_json, "log_as_json", {}, "false", true, "", true, true, "log JSON lines on stderr"},
};
// clang-format on

constexpr bool table_in_enum_order() {
  for (size_t i = 0; i < std::size(kAmbientFlags); ++i)
    if (static_cast<size_t>(kAmbientFlags[i].id) != i) return false;
  return std::size(kAmbientFlags) == kAmbientFlagCount;
}
static_assert(table_in_enum_order(), "kAmbientFlags must list every AmbientFlag, in enum order");

bool takes(Command c, const AmbientFlagDef& f) { return c == Command::ambient ? f.inpod : f.host; }

const char* kInpodAbout =
    "{}: writes the in-pod redirection of istio's ambient mode into a pod's network namespace,\n"
    "as istio-cni's node agent does (rules for ztunnel, plus `ip rule fwmark 0x111/0xfff lookup "
    "100`\nand `local default dev lo` in table 100). Flags stand for the agent's settings and the "
    "pod's\nannotations (istio 1.30).\n\nusage: {} [clean|verify] [FLAGS]\n\n";
const char* kHostAbout =
    "{}: the node-side rules of istio's ambient mode, in the namespace it runs in (the node's):\n"
    "kubelet's health probes to the ambient pods in the probe sets istio-inpod-probes-v4/-v6\n"
    "leave with the probe SNAT address. Creates the sets when missing (ipsets, or nft sets in\n"
    "inet istio-ambient-nat) and keeps their members; clean removes the rules, then the sets.\n\n"
    "usage: {} [clean|verify] [FLAGS]\n"
    "       {} probe add|del IP --pod-uid UID [--native-nftables]\n"
    "       (a pod's probe-set membership: `{} probe --help`)\n\n";

std::string help_text(Command c, const std::string& name, const std::vector<OptionSpec>& specs,
                      const std::vector<const AmbientFlagDef*>& defs) {
  std::vector<std::string> extra;
  for (const AmbientFlagDef* f : defs) {
    std::string e = fmt::format(" (default \"{}\")", f->def);
    for (const char* env : f->envs) e += fmt::format(" [env {}]", env);
    extra.push_back(std::move(e));
  }
  return fmt::format(fmt::runtime(c == Command::ambient ? kInpodAbout : kHostAbout), name, name,
                     name, name) +
         options_help(specs, extra) +
         "  -h, --help                                print this help and exit\n"
         "See README.md (\"snare ambient\") for the flags against istio's inputs.\n";
}

}  // namespace

Status parse_ambient_flags(Command command, const std::vector<std::string>& args,
                           const EnvLookup& env, const std::string& name, AmbientRawFlags& out) {
  std::vector<OptionSpec> specs;
  std::vector<const AmbientFlagDef*> defs;
  for (const AmbientFlagDef& f : kAmbientFlags) {
    out.values[static_cast<size_t>(f.id)] = RawValue{f.def, "default of --" + std::string(f.name)};
    if (!takes(command, f)) continue;
    specs.push_back({'\0', f.name, f.is_bool, f.value_name, f.help});
    defs.push_back(&f);
  }
  ArgvResult argv = parse_argv(specs, args);
  if (!argv.error.empty())
    return Status::Fail(fmt::format("{} (run `{} --help` for the flags)", argv.error, name));
  out.help = argv.help;
  out.version = argv.version;
  if (out.help) {
    out.help_text = help_text(command, name, specs, defs);
    return Status::Ok();
  }
  for (size_t i = 0; i < defs.size(); ++i) {
    RawValue& v = out.values[static_cast<size_t>(defs[i]->id)];
    for (const char* e : defs[i]->envs)
      if (auto val = env(e)) v = RawValue{std::move(*val), fmt::format("environment {}", e), true};
    if (argv.values[i])
      v = RawValue{std::move(*argv.values[i]), fmt::format("--{}", defs[i]->name), true};
  }
  return Status::Ok();
}

}  // namespace snare
