// Raw flag values -> Config (see flags.h): every value through the parsers of base/parse.h, the
// first error naming its flag or variable and the value.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "base/parse.h"
#include "config/flag_checker.h"
#include "config/flags.h"

namespace snare {
namespace {

// Checks and converts each raw value; the first error wins.
class Checker : public FlagChecker<RawFlags, Flag> {
 public:
  using FlagChecker::FlagChecker;
  std::string port(Flag f) {
    take(f, parse_port(str(f)));
    return str(f);
  }
  std::vector<std::string> ports(Flag f) {
    auto list = split_list(str(f));
    for (const auto& p : list) {
      auto r = parse_port_range(p);
      if (!r.ok()) fail(f, p == "*" ? r.error + "; '*' is not a port here" : r.error);
    }
    return list;
  }
  std::vector<std::string> list_of(Flag f, Parsed<std::string> (*parse)(std::string_view)) {
    auto list = split_list(str(f));
    for (const auto& v : list) take(f, parse(v));
    return list;
  }
  // -u, -g, owner groups: each spelling checked; a numeric one is its own number, a name is
  // resolved by fill_config (it needs the HostFacts seam).
  std::vector<OwnerId> owner_ids(Flag f) {
    std::vector<OwnerId> ids;
    for (auto& v : list_of(f, parse_owner_id)) {
      // A checked spelling is all digits (below 2^32 - 1) or a name, which starts with a letter.
      uint32_t n = 0;
      const bool numeric =
          std::from_chars(v.data(), v.data() + v.size(), n).ptr == v.data() + v.size();
      ids.push_back({std::move(v), numeric ? std::optional<uint32_t>(n) : std::nullopt});
    }
    return ids;
  }
  // -i / -x: CIDRs split by family, in istio's spelling.
  void cidrs(Flag f, std::vector<std::string>& v4, std::vector<std::string>& v6, bool& loopback) {
    for (const auto& c : split_list(str(f))) {
      auto p = parse_cidr(c);
      if (!p.ok()) {
        fail(f, c == "*" ? "'*' must be the whole value, not part of a list" : p.error);
        continue;
      }
      (p.value.addr.v6 ? v6 : v4).push_back(std::move(p.value.text));
      loopback = loopback || p.value.addr.loopback();
    }
  }
};

constexpr RunFlagIds<Flag> kRunFlags{Flag::dry_run,           Flag::output_format,
                                     Flag::network_namespace, Flag::netns_pid,
                                     Flag::log_output_level,  Flag::log_as_json};

void capture_ports(Checker& k, Config& c, std::vector<std::string>& warnings) {
  c.proxy_port = k.port(Flag::envoy_port);
  c.inbound_capture_port = k.port(Flag::inbound_capture_port);
  c.inbound_tunnel_port = k.port(Flag::inbound_tunnel_port);
  if (k.str(Flag::inbound_ports) == "*")
    c.inbound_ports_all = true;
  else
    c.inbound_ports = k.ports(Flag::inbound_ports);
  c.inbound_exclude = k.ports(Flag::local_exclude_ports);
  if (!c.inbound_ports_all && !c.inbound_exclude.empty() && k.given(Flag::local_exclude_ports))
    warnings.push_back(fmt::format(
        "{} \"{}\" is ignored because -b is not '*' (istio ignores it too): only the -b ports "
        "are captured",
        flag_label(Flag::local_exclude_ports), k.str(Flag::local_exclude_ports)));
  c.outbound_ports = k.ports(Flag::outbound_ports);
  c.outbound_ports_exclude = k.ports(Flag::local_outbound_ports_exclude);
  c.exclude_interfaces = k.list_of(Flag::exclude_interfaces, parse_interface);
  c.reroute_interfaces = k.list_of(Flag::kube_virt_interfaces, parse_interface);
}

void interception(Checker& k, Config& c) {
  std::string mode = k.str(Flag::interception_mode);
  std::transform(mode.begin(), mode.end(), mode.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
  // Why an empty environment variable still means REDIRECT: istio reads its environment through
  // viper, which treats a variable set to "" as unset; an empty -m on the command line is a typo.
  const bool from_env = k.source(Flag::interception_mode).rfind("environment ", 0) == 0;
  if (mode == "TPROXY")
    c.mode = InterceptMode::tproxy;
  else if (mode == "REDIRECT" || (mode.empty() && (!k.given(Flag::interception_mode) || from_env)))
    c.mode = InterceptMode::redirect;
  else
    k.fail(Flag::interception_mode,
           fmt::format("\"{}\" is not an interception mode (REDIRECT or TPROXY)",
                       k.str(Flag::interception_mode)));
  c.tproxy_mark = k.str(Flag::tproxy_mark);
  c.tproxy_mark_value = k.take(Flag::tproxy_mark, parse_u32(c.tproxy_mark));
  if (k.error().empty() && (c.tproxy_mark_value == 0 || c.tproxy_mark_value == 1338))
    k.fail(Flag::tproxy_mark,
           fmt::format("\"{}\" cannot be the TPROXY mark (0 is no mark; 1338 is istio's "
                       "outbound mark)",
                       c.tproxy_mark));
  c.tproxy_route_table = k.str(Flag::tproxy_route_table);
  c.tproxy_route_table_value = k.take(Flag::tproxy_route_table, parse_u32(c.tproxy_route_table));
  const uint32_t t = c.tproxy_route_table_value;
  if (k.error().empty() && (t == 0 || (t >= 253 && t <= 255)))
    k.fail(Flag::tproxy_route_table,
           fmt::format("\"{}\" is a reserved routing table (0 unspec, 253 default, 254 main, "
                       "255 local)",
                       c.tproxy_route_table));
}

void destinations(Checker& k, Config& c) {
  if (k.str(Flag::service_cidr) == "*")
    c.outbound_cidrs_all = true;
  else
    k.cidrs(Flag::service_cidr, c.outbound_cidrs_v4, c.outbound_cidrs_v6,
            c.outbound_cidrs_have_loopback);
  bool ignored = false;
  if (k.str(Flag::service_exclude_cidr) == "*")
    k.fail(Flag::service_exclude_cidr,
           "'*' would exclude every destination (istio refuses it too); give CIDRs");
  else
    k.cidrs(Flag::service_exclude_cidr, c.exclude_cidrs_v4, c.exclude_cidrs_v6, ignored);
  const std::string& lo = k.str(Flag::host_ipv4_loopback_cidr);
  auto p = parse_cidr(lo);
  if (!p.ok())
    k.fail(Flag::host_ipv4_loopback_cidr, p.error);
  else if (p.value.addr.v6 || !p.value.addr.loopback() || p.value.len < 8)
    k.fail(Flag::host_ipv4_loopback_cidr,
           fmt::format("\"{}\" is not an IPv4 loopback CIDR (127.0.0.0/8 with a length of 8 to 32)",
                       lo));
  c.ipv4_loopback_cidr = p.ok() ? p.value.text : lo;
}

void identities(Checker& k, Config& c, std::vector<std::string>& warnings) {
  c.proxy_uids = k.owner_ids(Flag::proxy_uid);
  c.proxy_gids = k.owner_ids(Flag::proxy_gid);
  if (k.str(Flag::outbound_owner_groups) == "*") {
    c.owner_groups_all = true;
  } else {
    c.owner_groups_all = false;
    c.owner_groups_include = k.owner_ids(Flag::outbound_owner_groups);
    if (c.owner_groups_include.size() > 64)
      k.fail(Flag::outbound_owner_groups,
             fmt::format("{} groups given; at most 64 fit in one rule (istio's limit)",
                         c.owner_groups_include.size()));
    if (c.owner_groups_include.empty())
      warnings.push_back(
          "outbound owner groups is set but empty: no outbound traffic will be captured (as in "
          "istio); use '*' to capture every group");
  }
  c.owner_groups_exclude = k.owner_ids(Flag::outbound_owner_groups_exclude);
  if (!c.owner_groups_all && !c.owner_groups_exclude.empty())
    warnings.push_back(
        "--outbound-owner-groups-exclude is ignored because --outbound-owner-groups is not '*' "
        "(as in istio)");
}

void dns_and_families(Checker& k, Config& c) {
  c.redirect_dns = k.boolean(Flag::redirect_dns);
  c.capture_all_dns = k.boolean(Flag::capture_all_dns);
  if (k.given(Flag::dns_servers)) {
    c.dns_servers_given = true;
    for (const auto& s : split_list(k.str(Flag::dns_servers))) {
      auto ip = k.take(Flag::dns_servers, parse_ip(s));
      (ip.v6 ? c.dns_servers_v6 : c.dns_servers_v4).push_back(s);
    }
  }
  c.drop_invalid = k.boolean(Flag::drop_invalid);
  c.dual_stack = k.boolean(Flag::dual_stack);
  const std::string& ipv6 = k.str(Flag::enable_ipv6);
  if (ipv6 == "auto") {
    c.ipv6 = Ipv6Mode::automatic;
  } else if (auto b = parse_bool(ipv6); b.ok()) {
    c.ipv6 = b.value ? Ipv6Mode::on : Ipv6Mode::off;
  } else {
    k.fail(Flag::enable_ipv6, fmt::format("\"{}\" is not auto, true or false", ipv6));
  }
}

void run_options(Checker& k, Config& c) {
  target_options(k, kRunFlags, c);
  c.allow_host_netns = k.boolean(Flag::allow_host_netns);
  c.reconcile = k.boolean(Flag::reconcile);
  c.cleanup_only = k.boolean(Flag::cleanup_only);
  c.force_apply = k.boolean(Flag::force_apply);
  c.skip_rule_apply = k.boolean(Flag::skip_rule_apply);
  c.run_validation = k.boolean(Flag::run_validation);
  c.probe_port = k.take(Flag::probe_port, parse_port(k.str(Flag::probe_port)));
  c.probe_timeout = k.take(Flag::probe_timeout, parse_duration(k.str(Flag::probe_timeout)));
  c.cni_mode = k.boolean(Flag::cni_mode);
  c.native_nftables = k.boolean(Flag::native_nftables);
  c.force_iptables_binary = k.str(Flag::force_iptables_binary);
  if (!c.force_iptables_binary.empty() && c.force_iptables_binary != "legacy" &&
      c.force_iptables_binary != "nft")
    k.fail(
        Flag::force_iptables_binary,
        fmt::format("\"{}\" is not legacy or nft (istio rejects it too)", c.force_iptables_binary));
  log_options(k, kRunFlags, c);
}

// What only nftables mode refuses.
void nftables_checks(Checker& k, const Config& c) {
  if (!c.native_nftables) return;
  // nft's quoted strings cannot hold a '"' (and '\\' escapes): such a name cannot be written.
  const std::pair<Flag, const std::vector<std::string>*> lists[] = {
      {Flag::exclude_interfaces, &c.exclude_interfaces},
      {Flag::kube_virt_interfaces, &c.reroute_interfaces}};
  for (const auto& [flag, names] : lists)
    for (const std::string& n : *names)
      if (n.find_first_of("\"\\") != std::string::npos)
        k.fail(flag, fmt::format("\"{}\": an interface name with '\"' or '\\' cannot be written in "
                                 "nftables' language; rename the interface or leave out "
                                 "--native-nftables",
                                 n));
}

// Flags snare accepts for compatibility but does not implement: refused, never ignored.
Status unsupported(const Config& c) {
  if (c.force_iptables_binary == "nft")
    return Status::Fail(
        "--force-iptables-binary: \"nft\" is not supported yet: snare writes legacy iptables "
        "through libiptc and needs no binary; on nftables nodes use --native-nftables instead");
  if (c.cni_mode)
    return Status::Fail(
        "--cni-mode: not supported yet (istio's plugin calls its own rule code with it); snare's "
        "CNI "
        "plugin is snare-cni (istio-cni, `snare cni`), which needs no such flag");
  return Status::Ok();
}

}  // namespace

Status make_config(const RawFlags& raw, Config& c, std::vector<std::string>& warnings) {
  Checker k(raw);
  c = Config{};
  capture_ports(k, c, warnings);
  interception(k, c);
  destinations(k, c);
  identities(k, c, warnings);
  dns_and_families(k, c);
  run_options(k, c);
  nftables_checks(k, c);
  if (!k.error().empty()) return Status::Fail(k.error());
  return unsupported(c);
}

}  // namespace snare
