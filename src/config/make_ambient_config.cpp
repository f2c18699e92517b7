// Raw ambient flag values -> Config (see ambient_flags.h): every value through the parsers of
// base/parse.h, the first error naming its flag or variable and the value.
#include <fmt/format.h>

#include "base/parse.h"
#include "config/ambient_flags.h"

namespace snare {
namespace {

class AmbientChecker {
 public:
  explicit AmbientChecker(const AmbientRawFlags& raw) : raw_(raw) {}
  const std::string& str(AmbientFlag f) const { return raw_[f].value; }
  bool given(AmbientFlag f) const { return raw_[f].given; }
  void fail(AmbientFlag f, const std::string& why) {
    if (error_.empty()) error_ = fmt::format("{}: {}", raw_[f].source, why);
  }
  template <typename T>
  T take(AmbientFlag f, Parsed<T> p) {
    if (!p.ok()) fail(f, p.error);
    return std::move(p.value);
  }
  bool boolean(AmbientFlag f) { return take(f, parse_bool(str(f))); }
  // An address of one family, in its canonical text (netip's String(), which istio prints).
  std::string address(AmbientFlag f, bool v6) {
    IpAddr a = take(f, parse_ip(str(f)));
    if (error_.empty() && a.v6 != v6)
      fail(f, fmt::format("\"{}\" is not an {} address", str(f), v6 ? "IPv6" : "IPv4"));
    return a.text();
  }
  const std::string& error() const { return error_; }

 private:
  const AmbientRawFlags& raw_;
  std::string error_;
};

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
  c.dry_run = k.boolean(AmbientFlag::dry_run);
  const std::string& format = k.str(AmbientFlag::output_format);
  if (format == "restore" || format == "save")
    c.output_format = format == "save" ? OutputFormat::save : OutputFormat::restore;
  else
    k.fail(AmbientFlag::output_format,
           fmt::format("\"{}\" is not an output format (restore or save)", format));
  c.network_namespace = k.str(AmbientFlag::network_namespace);
  if (const std::string& pid = k.str(AmbientFlag::netns_pid); !pid.empty()) {
    auto v = parse_u32(pid);
    if (!v.ok() || v.value == 0 || v.value > 4194304)
      k.fail(AmbientFlag::netns_pid, fmt::format("\"{}\" is not a process ID", pid));
    c.netns_pid = static_cast<int>(v.value);
    if (!c.network_namespace.empty())
      k.fail(AmbientFlag::netns_pid, "give either --network-namespace or --netns-pid, not both");
  }
  c.log_level =
      k.take(AmbientFlag::log_output_level, parse_log_level(k.str(AmbientFlag::log_output_level)));
  c.log_as_json = k.boolean(AmbientFlag::log_as_json);
}

// What is not built yet: refused, never half done.
Status unsupported(const Config& c) {
  if (c.dry_run) return Status::Ok();
  if (c.command == Command::ambient_host)
    return Status::Fail(
        "snare ambient-host: applying the node's rules is not supported yet (they need the probe "
        "IP sets istio-cni creates); --dry-run prints them");
  return Status::Ok();
}

}  // namespace

Status make_ambient_config(Command command, const AmbientRawFlags& raw, Config& c) {
  AmbientChecker k(raw);
  c = Config{};
  c.command = command;
  pod_inputs(k, c.ambient);
  node_inputs(k, c);
  run_options(k, c);
  if (!k.error().empty()) return Status::Fail(k.error());
  return unsupported(c);
}

}  // namespace snare
