// System seam: the real implementation and the Config fill-in that uses it (see system.h).
#include "config/system.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fmt/format.h>
#include <grp.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <pwd.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

namespace snare {
namespace {

class RealSystem : public System {
 public:
  std::optional<uint32_t> user_id(const std::string& name) override {
    passwd pw{}, *res = nullptr;
    std::vector<char> buf(16384);
    if (getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &res) != 0 || !res)
      return std::nullopt;
    return pw.pw_uid;
  }
  std::optional<uint32_t> group_id(const std::string& name) override {
    group gr{}, *res = nullptr;
    std::vector<char> buf(65536);
    if (getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &res) != 0 || !res)
      return std::nullopt;
    return gr.gr_gid;
  }
  std::vector<std::string> interface_addresses() override {
    std::vector<std::string> out;
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) return out;
    for (ifaddrs* a = list; a; a = a->ifa_next) {
      if (!a->ifa_addr) continue;
      char text[INET6_ADDRSTRLEN] = {};
      if (a->ifa_addr->sa_family == AF_INET) {
        inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr, text,
                  sizeof text);
      } else if (a->ifa_addr->sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(a->ifa_addr)->sin6_addr, text,
                  sizeof text);
      } else {
        continue;
      }
      out.push_back(text);
    }
    freeifaddrs(list);
    return out;
  }
  std::vector<std::string> list_dir(const std::string& path) override {
    std::vector<std::string> out;
    DIR* d = opendir(path.c_str());
    if (!d) return out;
    while (const dirent* e = readdir(d)) {
      const std::string name = e->d_name;
      if (name != "." && name != "..") out.push_back(name);
    }
    closedir(d);
    return out;
  }
  std::optional<std::string> read_file(const std::string& path) override {
    std::ifstream f(path);
    if (!f) return std::nullopt;
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }
};

bool all_digits(const std::string& s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

}  // namespace

System& real_system() {
  static RealSystem sys;
  return sys;
}

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

Status fill_config(Config& cfg, System& sys, const EnvLookup& env,
                   std::vector<std::string>& warnings) {
  if (cfg.proxy_uids.empty()) {
    // istio: look up $ENVOY_USER (default istio-proxy); when that fails, 1337.
    std::string user = env("ENVOY_USER").value_or("istio-proxy");
    if (user.empty()) user = "istio-proxy";
    auto id = sys.user_id(user);
    cfg.proxy_uids = {id ? std::to_string(*id) : "1337"};
  }
  if (cfg.proxy_gids.empty()) cfg.proxy_gids = cfg.proxy_uids;

  switch (cfg.ipv6) {
    case Ipv6Mode::on:
      cfg.ipv6_enabled = true;
      break;
    case Ipv6Mode::off:
      cfg.ipv6_enabled = false;
      break;
    case Ipv6Mode::automatic: {
      bool found = false;
      cfg.ipv6_enabled = ipv6_from_addresses(sys.interface_addresses(), cfg.dual_stack, found);
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
    auto text = sys.read_file("/etc/resolv.conf");
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
  if (!cfg.ipv6_enabled && (!cfg.outbound_cidrs_v6.empty() || !cfg.exclude_cidrs_v6.empty())) {
    warnings.push_back("IPv6 is off: the IPv6 CIDRs of -i/-x are not used (as in istio)");
  }
  return Status::Ok();
}

namespace {

// The flag a user or group name came from, for the error line.
std::string flag_of_name(const Config& cfg, const std::string& id, bool gid) {
  auto in = [&](const std::vector<std::string>& v) {
    return std::find(v.begin(), v.end(), id) != v.end();
  };
  if (!gid) return "--proxy-uid";
  if (in(cfg.owner_groups_include)) return "--outbound-owner-groups";
  if (in(cfg.owner_groups_exclude)) return "--outbound-owner-groups-exclude";
  return "--proxy-gid";
}

}  // namespace

Status resolve_names(Plan& plan, System& sys, const Config& cfg) {
  for (Rule& r : plan.rules) {
    for (Match& m : r.matches) {
      auto* o = std::get_if<OwnerMatch>(&m);
      if (!o || all_digits(o->id)) continue;
      auto id = o->gid ? sys.group_id(o->id) : sys.user_id(o->id);
      if (!id)
        return Status::Fail(fmt::format(
            "{}: {} \"{}\" does not exist in this container's /etc/{}: use a numeric {} or add "
            "the name to the image",
            flag_of_name(cfg, o->id, o->gid), o->gid ? "group" : "user", o->id,
            o->gid ? "group" : "passwd", o->gid ? "GID" : "UID"));
      o->id = std::to_string(*id);
    }
  }
  return Status::Ok();
}

}  // namespace snare
