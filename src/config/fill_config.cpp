// fill_config and the istio decisions it makes from the host's facts (see fill_config.h).
#include "config/fill_config.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <sstream>

namespace snare {

bool ipv6_from_addresses(const std::vector<std::string>& addrs, bool dual_stack, bool& found) {
  // istio's getLocalIP: skip loopback, link-local unicast and link-local multicast; v4-mapped
  // addresses count as IPv4. Without dual-stack only the first usable address decides.
  found = false;
  bool any_v6 = false;
  for (const auto& a : addrs) {
    unsigned char b[16];
    if (inet_pton(AF_INET, a.c_str(), b) == 1) {
      if (b[0] == 127 || (b[0] == 169 && b[1] == 254) || (b[0] == 224 && b[1] == 0 && b[2] == 0))
        continue;
      if (!found && !dual_stack) {
        found = true;
        return false;
      }
      found = true;
      continue;
    }
    if (inet_pton(AF_INET6, a.c_str(), b) != 1) continue;
    static const unsigned char kLo[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    bool loopback = std::equal(b, b + 16, kLo);
    bool link_local = b[0] == 0xfe && (b[1] & 0xc0) == 0x80;
    bool ll_multicast = b[0] == 0xff && (b[1] & 0x0f) == 0x02;
    bool mapped = std::all_of(b, b + 10, [](unsigned char c) { return c == 0; }) && b[10] == 0xff &&
                  b[11] == 0xff;
    if (loopback || link_local || ll_multicast) continue;
    if (mapped) {
      unsigned char first = b[12];
      if (first == 127 || (first == 169 && b[13] == 254)) continue;
      if (!found && !dual_stack) {
        found = true;
        return false;
      }
      found = true;
      continue;
    }
    if (!found && !dual_stack) {
      found = true;
      return true;
    }
    found = true;
    any_v6 = true;
  }
  return any_v6;
}

void parse_resolv_conf(const std::string& text, std::vector<std::string>& v4,
                       std::vector<std::string>& v6) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string key, addr;
    if (!(words >> key >> addr) || key != "nameserver") continue;
    auto pct = addr.find('%');
    if (pct != std::string::npos) addr = addr.substr(0, pct);
    unsigned char b[16];
    char norm[INET6_ADDRSTRLEN];
    if (inet_pton(AF_INET, addr.c_str(), b) == 1) {
      v4.push_back(addr);
    } else if (inet_pton(AF_INET6, addr.c_str(), b) == 1) {
      inet_ntop(AF_INET6, b, norm, sizeof norm);
      v6.push_back(norm);
    }
  }
}

namespace {

// Resolves each user and group name of the owner flags to its number, once: the kernel stores
// numbers, and iptables would resolve them at insert time. An unknown name is an error naming
// its flag. A restore-form dry-run reaches no kernel and prints names as given (as istio's
// does), so there an unknown name stays unresolved. -g defaults to -u's values, looked up as
// groups.
Status resolve_owner_ids(Config& cfg, HostFacts& host, bool gids_from_uids) {
  struct List {
    std::vector<OwnerId>* ids;
    bool group;
    const char* flag;
  };
  const List lists[] = {
      {&cfg.proxy_uids, false, "--proxy-uid"},
      {&cfg.proxy_gids, true,
       gids_from_uids ? "--proxy-gid (which defaults to --proxy-uid)" : "--proxy-gid"},
      {&cfg.owner_groups_include, true, "--outbound-owner-groups"},
      // Ignored (with a warning) unless the include list is '*': nothing to resolve then.
      {cfg.owner_groups_all ? &cfg.owner_groups_exclude : nullptr, true,
       "--outbound-owner-groups-exclude"}};
  const bool keep_unknown = cfg.dry_run && cfg.output_format == OutputFormat::restore;
  for (const List& l : lists) {
    if (!l.ids) continue;
    for (OwnerId& o : *l.ids) {
      if (o.number) continue;
      o.number = l.group ? host.group_id(o.spelling) : host.user_id(o.spelling);
      if (o.number || keep_unknown) continue;
      return Status::Fail(fmt::format(
          "{}: {} \"{}\" does not exist in this container's /etc/{}: use a numeric {} or add the "
          "name to the image",
          l.flag, l.group ? "group" : "user", o.spelling, l.group ? "group" : "passwd",
          l.group ? "GID" : "UID"));
    }
  }
  return Status::Ok();
}

}  // namespace

Status fill_config(Config& cfg, HostFacts& host, const EnvLookup& env,
                   std::vector<std::string>& warnings) {
  if (cfg.proxy_uids.empty()) {
    // istio: look up $ENVOY_USER (default istio-proxy); when that fails, 1337.
    std::string user = env("ENVOY_USER").value_or("istio-proxy");
    if (user.empty()) user = "istio-proxy";
    auto id = host.user_id(user);
    cfg.proxy_uids = {OwnerId{id ? std::to_string(*id) : "1337", id.value_or(1337)}};
  }
  const bool gids_from_uids = cfg.proxy_gids.empty();
  if (gids_from_uids) cfg.proxy_gids = cfg.proxy_uids;
  if (Status s = resolve_owner_ids(cfg, host, gids_from_uids); !s.ok()) return s;

  switch (cfg.ipv6) {
    case Ipv6Mode::on:
      cfg.ipv6_enabled = true;
      break;
    case Ipv6Mode::off:
      cfg.ipv6_enabled = false;
      break;
    case Ipv6Mode::automatic: {
      bool found = false;
      cfg.ipv6_enabled = ipv6_from_addresses(host.interface_addresses(), cfg.dual_stack, found);
      if (!found) {
        // istio fails here ("no valid local IP address found"); snare writes IPv4 rules only.
        warnings.push_back(
            "--enable-ipv6=auto: the network namespace has no usable address yet, so only IPv4 "
            "rules are written; pass --enable-ipv6=true for an IPv6 or dual-stack pod");
      }
      break;
    }
  }

  if (cfg.redirect_dns && !cfg.capture_all_dns && !cfg.dns_servers_given) {
    auto text = host.read_file("/etc/resolv.conf");
    if (!text) {
      return Status::Fail(
          "--redirect-dns: cannot read /etc/resolv.conf to find the nameservers; pass "
          "--dns-servers LIST or --capture-all-dns");
    }
    parse_resolv_conf(*text, cfg.dns_servers_v4, cfg.dns_servers_v6);
  }
  if (cfg.redirect_dns && !cfg.capture_all_dns && cfg.dns_servers_v4.empty() &&
      cfg.dns_servers_v6.empty()) {
    warnings.push_back(
        "REDIRECT_DNS is set, but CAPTURE_ALL_DNS is false, and no DNS servers provided. DNS "
        "capture disabled (as istio does); pass --dns-servers or --capture-all-dns");
  }
  // istio's nftables rules have no family: with IPv6 off they still capture IPv6, and only the
  // IPv6 values (exclusions among them) are left out.
  std::vector<std::string> v6;
  for (const auto* l : {&cfg.outbound_cidrs_v6, &cfg.exclude_cidrs_v6})
    v6.insert(v6.end(), l->begin(), l->end());
  if (cfg.native_nftables && cfg.dns_servers_given)
    v6.insert(v6.end(), cfg.dns_servers_v6.begin(), cfg.dns_servers_v6.end());
  if (!cfg.ipv6_enabled && !v6.empty() && cfg.native_nftables) {
    warnings.push_back(fmt::format(
        "IPv6 is off (--enable-ipv6) with --native-nftables: the rules still capture IPv6 traffic "
        "(istio's inet rules have no family), but the IPv6 values given ({}) are left out, IPv6 "
        "exclusions included; use --enable-ipv6=true to honour them",
        fmt::join(v6, ", ")));
  } else if (!cfg.ipv6_enabled && !v6.empty()) {
    warnings.push_back("IPv6 is off: the IPv6 CIDRs of -i/-x are not used (as in istio)");
  }
  return Status::Ok();
}

}  // namespace snare
