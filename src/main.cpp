// snare's main: wires the kernel-facing commands into the CLI. Everything else is in the library.
#include <fmt/format.h>
#include <netlink/version.h>

#include <algorithm>
#include <cctype>

#include "apply.h"
#include "build_info.h"
#include "cli.h"
#include "proxy/proxy_main.h"
#include "proxy/validation.h"
#include "system.h"

namespace {

// A UID/GID flag value as a number: numeric, or a name resolved in this container.
uint32_t numeric_id(const std::string& v, bool group) {
  if (!v.empty() &&
      std::all_of(v.begin(), v.end(), [](unsigned char c) { return std::isdigit(c); })) {
    return static_cast<uint32_t>(std::stoul(v));
  }
  auto& sys = snare::real_system();
  auto id = group ? sys.group_id(v) : sys.user_id(v);
  return id.value_or(1337);
}

int validate(const snare::Config& cfg) {
  snare::ValidationOptions o;
  o.probe_port = cfg.probe_port;
  o.timeout = cfg.probe_timeout;
  o.proxy_port = static_cast<uint16_t>(std::stoul(cfg.proxy_port));
  o.inbound_port = static_cast<uint16_t>(std::stoul(cfg.inbound_capture_port));
  o.uid = numeric_id(cfg.proxy_uids.empty() ? "1337" : cfg.proxy_uids[0], false);
  o.gid = numeric_id(cfg.proxy_gids.empty() ? "1337" : cfg.proxy_gids[0], true);
  // As istio: the probe's family is that of the pod's first usable address (IPv4 for a
  // dual-stack pod whose first address is IPv4), and IPv6 only when IPv6 rules were written.
  bool found = false;
  o.ipv6 = cfg.ipv6_enabled &&
           snare::ipv6_from_addresses(snare::real_system().interface_addresses(), false, found);
  o.log_as_json = cfg.log_as_json;
  return snare::run_validation(o);
}

}  // namespace

int main(int argc, char** argv) {
  snare::Commands cmds;
  cmds.apply = snare::apply_rules;
  cmds.cleanup = snare::cleanup_rules;
  cmds.verify = snare::verify_rules;
  cmds.validate = validate;
  cmds.proxy = snare::proxy_main;
  cmds.version_details = [] {
    return fmt::format(
        "libiptc {} (libip4tc/libip6tc)\nlibnl {} (built with), {}.{}.{} (running)\n",
        SNARE_IPTC_VERSION, LIBNL_VERSION, nl_ver_maj, nl_ver_min, nl_ver_mic);
  };
  return snare::run_cli(argc, argv, cmds);
}
