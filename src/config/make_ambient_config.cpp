// Raw ambient flag values -> Config (see ambient_flags.h): every value through the parsers of
// base/parse.h, the first error naming its flag or variable and the value.
#include <fmt/format.h>

#include "base/parse.h"
#include "config/ambient_flags.h"
#include "config/flag_checker.h"

namespace snare {
namespace {

class AmbientChecker : public FlagChecker<AmbientRawFlags, AmbientFlag> {
 public:
  using FlagChecker::FlagChecker;
  // An address of one family, in its canonical text (netip's String(), which istio prints).
  std::string address(AmbientFlag f, bool v6) {
    IpAddr a = take(f, parse_ip(str(f)));
    if (error().empty() && a.v6 != v6)
      fail(f, fmt::format("\"{}\" is not an {} address", str(f), v6 ? "IPv6" : "IPv4"));
    return a.text();
  }
};

constexpr RunFlagIds<AmbientFlag> kRunFlags{
    AmbientFlag::dry_run,   AmbientFlag::output_format,    AmbientFlag::network_namespace,
    AmbientFlag::netns_pid, AmbientFlag::log_output_level, AmbientFlag::log_as_json};

void pod_inputs(AmbientChecker& k, AmbientOptions& a) {
  a.dns_capture = k.boolean(AmbientFlag::dns_capture);
  if (k.given(AmbientFlag::pod_dns_capture))
    a.pod_dns_capture = k.boolean(AmbientFlag::pod_dns_capture);
  a.bypass_inbound_capture = k.boolean(AmbientFlag::bypass_inbound_capture);
  for (const auto& nic : split_list(k.str(AmbientFlag::reroute_virtual_interfaces)))
    a.virtual_interfaces.push_back(
        k.take(AmbientFlag::reroute_virtual_interfaces, parse_interface(nic)));
}

void node_inputs(AmbientChecker& k, Config& c) {
  c.ipv6 = k.boolean(AmbientFlag::enable_ipv6) ? Ipv6Mode::on : Ipv6Mode::off;
  c.ipv6_enabled = c.ipv6 == Ipv6Mode::on;
  c.ambient.probe_snat_v4 = k.address(AmbientFlag::probe_snat_ipv4, false);
  c.ambient.probe_snat_v6 = k.address(AmbientFlag::probe_snat_ipv6, true);
  if (const std::string& uid = k.str(AmbientFlag::kubelet_uid); !uid.empty())
    c.ambient.kubelet_uid = k.take(AmbientFlag::kubelet_uid, parse_u32(uid));
  c.native_nftables = k.boolean(AmbientFlag::native_nftables);
}

void run_options(AmbientChecker& k, Config& c) {
  target_options(k, kRunFlags, c);
  log_options(k, kRunFlags, c);
}

}  // namespace

Status make_ambient_config(Command command, const AmbientRawFlags& raw, Config& c) {
  AmbientChecker k(raw);
  c = Config{};
  c.command = command;
  c.replace_earlier_rules = true;
  pod_inputs(k, c.ambient);
  node_inputs(k, c);
  run_options(k, c);
  if (!k.error().empty()) return Status::Fail(k.error());
  return Status::Ok();
}

}  // namespace snare
