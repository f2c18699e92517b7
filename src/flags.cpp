// Flags → Config (see flags.h). The table below is the single source of every flag: its names,
// environment variables, default and help text. CLI11 parses argv; the environment is applied
// here so that istio's alias precedence and snare's strict checks hold for env values too.
#include "flags.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <set>

#include "validate.h"

namespace snare {
namespace {

struct FlagDef {
  const char* shortname;          // "" when none
  const char* name;               // long name without dashes
  std::vector<const char*> envs;  // primary env var first, then aliases (which win over it)
  const char* def;
  bool is_bool;
  const char* help;
  const char* group;
};

// clang-format off
const std::vector<FlagDef>& flag_table() {
  static const std::vector<FlagDef> kFlags = {
    {"p", "envoy-port", {}, "15001", false, "outbound capture port: ISTIO_REDIRECT sends outbound TCP here", "Capture"},
    {"z", "inbound-capture-port", {"INBOUND_CAPTURE_PORT"}, "15006", false, "inbound capture port (REDIRECT --to-ports / TPROXY --on-port)", "Capture"},
    {"e", "inbound-tunnel-port", {"INBOUND_TUNNEL_PORT"}, "15008", false, "HBONE tunnel port, never captured inbound", "Capture"},
    {"u", "proxy-uid", {"PROXY_UID"}, "", false, "UID(s) of the proxy, whose traffic is not captured (list; empty: user $ENVOY_USER, default istio-proxy, else 1337)", "Capture"},
    {"g", "proxy-gid", {"PROXY_GID"}, "", false, "GID(s) of the proxy (list; empty: same as -u)", "Capture"},
    {"m", "istio-inbound-interception-mode", {"ISTIO_INBOUND_INTERCEPTION_MODE"}, "", false, "inbound mode: REDIRECT (default) or TPROXY, any case", "Capture"},
    {"t", "istio-inbound-tproxy-mark", {"ISTIO_INBOUND_TPROXY_MARK"}, "1337", false, "TPROXY fwmark (decimal or 0x hex)", "Capture"},
    {"r", "istio-inbound-tproxy-route-table", {"ISTIO_INBOUND_TPROXY_ROUTE_TABLE"}, "133", false, "TPROXY policy routing table", "Capture"},
    {"b", "istio-inbound-ports", {"ISTIO_INBOUND_PORTS"}, "", false, "inbound ports to capture: '*' for all, a list, or empty for none", "Capture"},
    {"d", "istio-local-exclude-ports", {"ISTIO_LOCAL_EXCLUDE_PORTS"}, "", false, "inbound ports not captured (only with -b '*')", "Capture"},
    {"c", "istio-exclude-interfaces", {"ISTIO_EXCLUDE_INTERFACES"}, "", false, "interfaces whose traffic is never captured (list)", "Capture"},
    {"i", "istio-service-cidr", {"ISTIO_SERVICE_CIDR"}, "", false, "outbound destination CIDRs to capture: '*' for all, a list, or empty for none", "Capture"},
    {"x", "istio-service-exclude-cidr", {"ISTIO_SERVICE_EXCLUDE_CIDR"}, "", false, "outbound destination CIDRs never captured (list)", "Capture"},
    {"q", "istio-outbound-ports", {"ISTIO_OUTBOUND_PORTS"}, "", false, "outbound TCP ports always captured, whatever the destination (list)", "Capture"},
    {"o", "istio-local-outbound-ports-exclude", {"ISTIO_LOCAL_OUTBOUND_PORTS_EXCLUDE"}, "", false, "outbound ports never captured, TCP and UDP (list)", "Capture"},
    {"k", "kube-virt-interfaces", {"KUBE_VIRT_INTERFACES"}, "", false, "virtual interfaces whose inbound traffic is treated as outbound (list)", "Capture"},
    {"", "redirect-dns", {"REDIRECT_DNS", "ISTIO_META_DNS_CAPTURE"}, "false", true, "capture DNS (TCP and UDP port 53) to the agent on 15053", "Capture"},
    {"", "capture-all-dns", {"CAPTURE_ALL_DNS"}, "false", true, "with --redirect-dns: capture port 53 to any server, not only the nameservers", "Capture"},
    {"", "dns-servers", {}, "", false, "nameservers for DNS capture (list); given, even empty, it replaces reading /etc/resolv.conf", "Capture"},
    {"", "drop-invalid", {"DROP_INVALID", "INVALID_DROP"}, "false", true, "drop packets conntrack marks INVALID", "Capture"},
    {"", "dual-stack", {"DUAL_STACK", "ISTIO_DUAL_STACK"}, "false", true, "with --enable-ipv6=auto: IPv6 is on if any address is IPv6 (not only the first)", "Capture"},
    {"", "enable-ipv6", {"ENABLE_INBOUND_IPV6"}, "auto", false, "write IPv6 rules: auto (from the namespace's addresses, as istio), true or false", "Capture"},
    {"", "outbound-owner-groups", {"ISTIO_OUTBOUND_OWNER_GROUPS"}, "*", false, "groups whose outbound traffic is captured: '*' or a list of names/GIDs (at most 64)", "Capture"},
    {"", "outbound-owner-groups-exclude", {"ISTIO_OUTBOUND_OWNER_GROUPS_EXCLUDE"}, "", false, "groups whose outbound traffic is not captured (with owner groups '*')", "Capture"},
    {"", "host-ipv4-loopback-cidr", {"ISTIO_OUTBOUND_IPV4_LOOPBACK_CIDR"}, "127.0.0.1/32", false, "the IPv4 loopback CIDR the rules treat as localhost (127.x.x.x/8..32)", "Capture"},
    {"n", "dry-run", {"DRY_RUN"}, "false", true, "print the rules (iptables-restore input) on stdout; change nothing, needs no root", "Run"},
    {"", "output-format", {}, "restore", false, "dry-run output: restore (istio's iptables-restore input) or save (as iptables-save shows the kernel's rules)", "Run"},
    {"", "network-namespace", {"NETWORK_NAMESPACE"}, "", false, "enter this network namespace (path, e.g. /var/run/netns/x or /proc/PID/ns/net) before anything else", "Run"},
    {"", "netns-pid", {}, "", false, "enter the network namespace of this process", "Run"},
    {"", "allow-host-netns", {}, "false", true, "allow programming the host's initial network namespace (istio VM mode)", "Run"},
    {"", "reconcile", {"RECONCILE"}, "false", true, "replace earlier, different istio rules in the same all-or-nothing apply", "Run"},
    {"", "cleanup-only", {"CLEANUP_ONLY"}, "false", true, "remove what these flags create (rules, chains, TPROXY routes, ::6) and exit", "Run"},
    {"", "force-apply", {"FORCE_APPLY"}, "false", true, "write the rules even when they are already in place", "Run"},
    {"", "skip-rule-apply", {"SKIP_RULE_APPLY"}, "false", true, "do not program anything (with --run-validation, as istio-validation)", "Run"},
    {"", "run-validation", {"RUN_VALIDATION"}, "false", true, "probe the rules with a connection to 127.0.0.6:<probe port>; exit 126 on failure", "Run"},
    {"", "iptables-probe-port", {"IPTABLES_PROBE_PORT"}, "15002", false, "validation probe port", "Run"},
    {"", "probe-timeout", {"PROBE_TIMEOUT"}, "5s", false, "validation deadline (a duration: 5s, 500ms)", "Run"},
    {"", "cni-mode", {"CNI_MODE"}, "false", true, "istio CNI's host-filesystem mode (not supported yet)", "Run"},
    {"", "native-nftables", {"NATIVE_NFTABLES"}, "false", true, "program nftables instead of iptables (not supported yet)", "Run"},
    {"", "force-iptables-binary", {"FORCE_IPTABLES_BINARY"}, "", false, "istio's iptables binary choice: snare uses libiptc (legacy); 'legacy' is accepted, 'nft' is not supported yet", "Run"},
    {"", "log_output_level", {}, "default:info", false, "log level: <scope>:<level>,... or a level (debug, info, warn, error, fatal, none)", "Logging"},
    {"", "log_as_json", {}, "false", true, "log JSON lines on stderr", "Logging"},
  };
  return kFlags;
}
// clang-format on

std::string flag_label(const FlagDef& f) {
  if (*f.shortname) return fmt::format("-{} (--{})", f.shortname, f.name);
  return fmt::format("--{}", f.name);
}

std::string env_help(const FlagDef& f) {
  if (f.envs.empty()) return "";
  std::string s = fmt::format(" [env {}", f.envs[0]);
  for (size_t i = 1; i < f.envs.size(); ++i) s += fmt::format(", alias {}", f.envs[i]);
  return s + "]";
}

// pflag spellings CLI11 does not take: `-x=value` and `--name=` (an empty value).
std::vector<std::string> pflag_compat(const std::vector<std::string>& args,
                                      const std::set<std::string>& shorts) {
  std::vector<std::string> out;
  for (const auto& a : args) {
    if (a.size() >= 3 && a[0] == '-' && a[1] != '-' && a[2] == '=' &&
        shorts.count(std::string(1, a[1]))) {
      out.push_back(a.substr(0, 2));
      out.push_back(a.substr(3));
    } else if (a.size() > 3 && a.rfind("--", 0) == 0 && a.back() == '=' &&
               a.find('=') == a.size() - 1) {
      out.push_back(a.substr(0, a.size() - 1));
      out.push_back("");
    } else {
      out.push_back(a);
    }
  }
  return out;
}

}  // namespace

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

std::vector<std::string> flag_names() {
  std::vector<std::string> out;
  for (const auto& f : flag_table()) out.push_back(f.name);
  return out;
}

Status parse_flags(const std::vector<std::string>& args, const EnvLookup& env,
                   const std::string& command, RawFlags& out) {
  CLI::App app{
      "snare: writes the iptables rules that send a pod's TCP traffic through its sidecar proxy,\n"
      "as istio-iptables does, through libiptc. Flags, environment variables and defaults are\n"
      "istio-iptables' (1.30).",
      command};
  app.set_help_flag("-h,--help", "print this help and exit");
  bool version = false;
  app.add_flag("--version", version, "print the version and exit");
  std::map<std::string, std::string> cli_values;
  std::map<std::string, bool> cli_bools;
  std::set<std::string> shorts;
  for (const auto& f : flag_table()) {
    std::string names =
        *f.shortname ? fmt::format("-{},--{}", f.shortname, f.name) : fmt::format("--{}", f.name);
    if (*f.shortname) shorts.insert(f.shortname);
    std::string help = fmt::format("{} (default: \"{}\"){}", f.help, f.def, env_help(f));
    if (f.is_bool) {
      app.add_flag(names, cli_bools[f.name], help)
          ->group(f.group)
          ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    } else {
      app.add_option(names, cli_values[f.name], help)
          ->group(f.group)
          ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    }
  }
  app.footer(
      "Subcommands: snare [istio-iptables] FLAGS (apply), snare clean FLAGS, snare verify FLAGS,\n"
      "snare proxy [--help], snare version. Precedence: flag > alias env > env > default.\n"
      "See README.md for every flag, exit codes and istio compatibility.");

  std::vector<std::string> argv = pflag_compat(args, shorts);
  std::vector<std::string> reversed(argv.rbegin(), argv.rend());  // CLI11 takes them reversed
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    out.help = true;
    out.help_text = app.help();
    return Status::Ok();
  } catch (const CLI::ParseError& e) {
    return Status::Fail(fmt::format("{} (run `{} --help` for the flags)", e.what(), command));
  }
  out.version = version;

  for (const auto& f : flag_table()) {
    RawValue v{f.def, fmt::format("default of {}", flag_label(f)), false};
    // Environment first (primary, then aliases, which win), then the command line.
    for (const char* e : f.envs) {
      if (auto val = env(e)) v = RawValue{*val, fmt::format("environment {}", e), true};
    }
    std::string opt = *f.shortname ? fmt::format("-{}", f.shortname) : fmt::format("--{}", f.name);
    if (app.count(opt) > 0) {
      std::string val = f.is_bool ? (cli_bools[f.name] ? "true" : "false") : cli_values[f.name];
      v = RawValue{val, flag_label(f), true};
    }
    out.values[f.name] = v;
  }
  return Status::Ok();
}

namespace {

// Checks and converts each raw value; the first error wins. `who` names the flag or env var.
class Checker {
 public:
  explicit Checker(const RawFlags& raw) : raw_(raw) {}
  const RawValue& get(const char* name) const { return raw_.values.at(name); }
  const std::string& str(const char* name) const { return get(name).value; }

  void fail(const char* name, const std::string& why) {
    if (!error_.empty()) return;
    const RawValue& v = get(name);
    error_ = fmt::format("{}: {}", v.source, why);
  }
  bool boolean(const char* name) {
    auto b = parse_bool(str(name));
    if (!b) {
      fail(name, fmt::format("\"{}\" is not a boolean (true or false)", str(name)));
      return false;
    }
    return *b;
  }
  std::vector<std::string> ports(const char* name, bool ranges) {
    auto list = split_list(str(name));
    for (const auto& p : list) {
      std::string why = ranges ? check_port_or_range(p) : check_port(p);
      if (!why.empty()) {
        if (p == "*") why += "; '*' is not a port here";
        fail(name, why);
      }
    }
    return list;
  }
  std::string port(const char* name) {
    std::string why = check_port(str(name));
    if (!why.empty()) fail(name, why);
    return str(name);
  }
  std::vector<std::string> interfaces(const char* name) {
    auto list = split_list(str(name));
    for (const auto& n : list) {
      std::string why = check_interface(n);
      if (!why.empty()) fail(name, why);
    }
    return list;
  }
  std::vector<std::string> owners(const char* name) {
    auto list = split_list(str(name));
    for (const auto& n : list) {
      std::string why = check_owner_id(n);
      if (!why.empty()) fail(name, why);
    }
    return list;
  }
  // -i / -x: CIDRs split by family, istio's spelling.
  void cidrs(const char* name, std::vector<std::string>& v4, std::vector<std::string>& v6,
             bool& loopback) {
    for (const auto& c : split_list(str(name))) {
      bool is6 = false, lo = false;
      std::string text;
      std::string why = parse_cidr(c, is6, text, lo);
      if (!why.empty()) {
        if (c == "*") why = "'*' must be the whole value, not part of a list";
        fail(name, why);
        continue;
      }
      (is6 ? v6 : v4).push_back(text);
      loopback = loopback || lo;
    }
  }
  const std::string& error() const { return error_; }

 private:
  const RawFlags& raw_;
  std::string error_;
};

}  // namespace

Status make_config(const RawFlags& raw, Config& c, std::vector<std::string>& warnings) {
  Checker k(raw);
  c = Config{};
  c.proxy_port = k.port("envoy-port");
  c.inbound_capture_port = k.port("inbound-capture-port");
  c.inbound_tunnel_port = k.port("inbound-tunnel-port");
  c.proxy_uids = k.owners("proxy-uid");
  c.proxy_gids = k.owners("proxy-gid");

  std::string mode = k.str("istio-inbound-interception-mode");
  std::string upper = mode;
  for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (upper == "TPROXY") {
    c.mode = InterceptMode::tproxy;
  } else if (upper == "REDIRECT" || upper.empty()) {
    c.mode = InterceptMode::redirect;
  } else {
    k.fail("istio-inbound-interception-mode",
           fmt::format("\"{}\" is not an interception mode (REDIRECT or TPROXY)", mode));
  }

  c.tproxy_mark = k.str("istio-inbound-tproxy-mark");
  if (auto why = parse_u32(c.tproxy_mark, c.tproxy_mark_value); !why.empty()) {
    k.fail("istio-inbound-tproxy-mark", why);
  } else if (c.tproxy_mark_value == 0 || c.tproxy_mark_value == 1338) {
    k.fail("istio-inbound-tproxy-mark",
           fmt::format(
               "\"{}\" cannot be the TPROXY mark (0 is no mark; 1338 is istio's outbound mark)",
               c.tproxy_mark));
  }
  c.tproxy_route_table = k.str("istio-inbound-tproxy-route-table");
  if (auto why = parse_u32(c.tproxy_route_table, c.tproxy_route_table_value); !why.empty()) {
    k.fail("istio-inbound-tproxy-route-table", why);
  } else if (c.tproxy_route_table_value == 0 ||
             (c.tproxy_route_table_value >= 253 && c.tproxy_route_table_value <= 255)) {
    k.fail("istio-inbound-tproxy-route-table",
           fmt::format(
               "\"{}\" is a reserved routing table (0 unspec, 253 default, 254 main, 255 local)",
               c.tproxy_route_table));
  }

  const std::string& b = k.str("istio-inbound-ports");
  if (b == "*") {
    c.inbound_ports_all = true;
  } else {
    c.inbound_ports = k.ports("istio-inbound-ports", true);
  }
  c.inbound_exclude = k.ports("istio-local-exclude-ports", true);
  if (!c.inbound_ports_all && !c.inbound_exclude.empty() &&
      raw.values.at("istio-local-exclude-ports").given) {
    warnings.push_back(
        fmt::format("-d (--istio-local-exclude-ports) \"{}\" is ignored because -b is not '*' "
                    "(istio ignores it "
                    "too): only the -b ports are captured",
                    k.str("istio-local-exclude-ports")));
  }
  c.exclude_interfaces = k.interfaces("istio-exclude-interfaces");
  c.reroute_interfaces = k.interfaces("kube-virt-interfaces");

  if (k.str("istio-service-cidr") == "*") {
    c.outbound_cidrs_all = true;
  } else {
    k.cidrs("istio-service-cidr", c.outbound_cidrs_v4, c.outbound_cidrs_v6,
            c.outbound_cidrs_have_loopback);
  }
  if (k.str("istio-service-exclude-cidr") == "*") {
    k.fail("istio-service-exclude-cidr",
           "'*' would exclude every destination (istio refuses it too); give CIDRs");
  } else {
    bool ignored = false;
    k.cidrs("istio-service-exclude-cidr", c.exclude_cidrs_v4, c.exclude_cidrs_v6, ignored);
  }
  c.outbound_ports = k.ports("istio-outbound-ports", true);
  c.outbound_ports_exclude = k.ports("istio-local-outbound-ports-exclude", true);

  const std::string& groups = k.str("outbound-owner-groups");
  if (groups == "*") {
    c.owner_groups_all = true;
  } else {
    c.owner_groups_all = false;
    c.owner_groups_include = k.owners("outbound-owner-groups");
    if (c.owner_groups_include.size() > 64) {
      k.fail("outbound-owner-groups",
             fmt::format("{} groups given; at most 64 fit in one rule (istio's limit)",
                         c.owner_groups_include.size()));
    }
    if (c.owner_groups_include.empty()) {
      warnings.push_back(
          "outbound owner groups is set but empty: no outbound traffic will be captured (as in "
          "istio); use '*' to capture every group");
    }
  }
  c.owner_groups_exclude = k.owners("outbound-owner-groups-exclude");
  if (!c.owner_groups_all && !c.owner_groups_exclude.empty()) {
    warnings.push_back(
        "--outbound-owner-groups-exclude is ignored because --outbound-owner-groups is not '*' (as "
        "in istio)");
  }

  {
    bool v6 = false, lo = false;
    std::string text;
    const std::string& v = k.str("host-ipv4-loopback-cidr");
    std::string why = parse_cidr(v, v6, text, lo);
    int len = 0;
    if (why.empty()) len = std::stoi(v.substr(v.find('/') + 1));
    if (!why.empty() || v6 || !lo || len < 8) {
      k.fail("host-ipv4-loopback-cidr",
             why.empty() ? fmt::format("\"{}\" is not an IPv4 loopback CIDR (127.0.0.0/8 with a "
                                       "length of 8 to 32)",
                                       v)
                         : why);
    }
    c.ipv4_loopback_cidr = text.empty() ? v : text;
  }

  c.redirect_dns = k.boolean("redirect-dns");
  c.capture_all_dns = k.boolean("capture-all-dns");
  if (raw.values.at("dns-servers").given) {
    c.dns_servers_given = true;
    for (const auto& s : split_list(k.str("dns-servers"))) {
      bool v6 = false;
      if (auto why = parse_ip(s, v6); !why.empty()) {
        k.fail("dns-servers", why);
        continue;
      }
      (v6 ? c.dns_servers_v6 : c.dns_servers_v4).push_back(s);
    }
  }
  c.drop_invalid = k.boolean("drop-invalid");
  c.dual_stack = k.boolean("dual-stack");
  const std::string& ipv6 = k.str("enable-ipv6");
  if (ipv6 == "auto") {
    c.ipv6 = Ipv6Mode::automatic;
  } else if (auto bv = parse_bool(ipv6)) {
    c.ipv6 = *bv ? Ipv6Mode::on : Ipv6Mode::off;
  } else {
    k.fail("enable-ipv6", fmt::format("\"{}\" is not auto, true or false", ipv6));
  }

  c.dry_run = k.boolean("dry-run");
  const std::string& fmt_name = k.str("output-format");
  if (fmt_name == "restore") {
    c.output_format = OutputFormat::restore;
  } else if (fmt_name == "save") {
    c.output_format = OutputFormat::save;
  } else {
    k.fail("output-format",
           fmt::format("\"{}\" is not an output format (restore or save)", fmt_name));
  }
  c.network_namespace = k.str("network-namespace");
  if (const std::string& pid = k.str("netns-pid"); !pid.empty()) {
    uint32_t v = 0;
    if (!parse_u32(pid, v).empty() || v == 0 || v > 4194304) {
      k.fail("netns-pid", fmt::format("\"{}\" is not a process ID", pid));
    }
    c.netns_pid = static_cast<int>(v);
    if (!c.network_namespace.empty()) {
      k.fail("netns-pid", "give either --network-namespace or --netns-pid, not both");
    }
  }
  c.allow_host_netns = k.boolean("allow-host-netns");
  c.reconcile = k.boolean("reconcile");
  c.cleanup_only = k.boolean("cleanup-only");
  c.force_apply = k.boolean("force-apply");
  c.skip_rule_apply = k.boolean("skip-rule-apply");
  c.run_validation = k.boolean("run-validation");
  {
    uint32_t p = 0;
    const std::string& v = k.str("iptables-probe-port");
    if (!check_port(v).empty())
      k.fail("iptables-probe-port", check_port(v));
    else
      parse_u32(v, p);
    c.probe_port = static_cast<uint16_t>(p);
  }
  if (auto why = parse_duration(k.str("probe-timeout"), c.probe_timeout); !why.empty()) {
    k.fail("probe-timeout", why);
  }
  c.cni_mode = k.boolean("cni-mode");
  c.native_nftables = k.boolean("native-nftables");
  c.force_iptables_binary = k.str("force-iptables-binary");
  if (!c.force_iptables_binary.empty() && c.force_iptables_binary != "legacy" &&
      c.force_iptables_binary != "nft") {
    k.fail(
        "force-iptables-binary",
        fmt::format("\"{}\" is not legacy or nft (istio rejects it too)", c.force_iptables_binary));
  }
  int level = 1;
  if (auto why = check_log_level(k.str("log_output_level"), level); !why.empty()) {
    k.fail("log_output_level", why);
  }
  static const LogLevel kLevels[] = {LogLevel::debug, LogLevel::info,  LogLevel::warn,
                                     LogLevel::error, LogLevel::error, LogLevel::none};
  c.log_level = kLevels[level];
  c.log_as_json = k.boolean("log_as_json");

  if (!k.error().empty()) return Status::Fail(k.error());

  // Flags snare accepts for compatibility but does not implement: refuse, never ignore.
  if (c.native_nftables) {
    return Status::Fail(
        "--native-nftables: not supported yet (snare programs iptables through libiptc); drop the "
        "flag (or global.nativeNftables) to use iptables rules");
  }
  if (c.force_iptables_binary == "nft") {
    return Status::Fail(
        "--force-iptables-binary: \"nft\" is not supported yet: snare writes legacy iptables "
        "through libiptc and needs no binary; drop the flag or use \"legacy\"");
  }
  if (c.cni_mode) {
    return Status::Fail(
        "--cni-mode: not supported yet (istio CNI links its own rule code); run snare as the init "
        "container, or with --network-namespace from the host");
  }
  return Status::Ok();
}

}  // namespace snare
