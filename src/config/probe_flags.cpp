// `snare ambient-host probe` arguments (see probe_flags.h).
#include "config/probe_flags.h"

#include <fmt/format.h>

#include <array>

#include "config/argv.h"

namespace snare {
namespace {

constexpr std::array<OptionSpec, 3> kProbeFlags{{
    {'\0', "pod-uid", false, "UID",
     "the pod's UID, the member's comment (required; del removes only a member carrying it)"},
    {'\0', "native-nftables", true, "",
     "the nftables sets (inet istio-ambient-nat) instead of the ipsets [env NATIVE_NFTABLES]"},
    {'\0', "log_as_json", true, "", "log JSON lines on stderr"},
}};

const char* kAbout =
    "snare ambient-host probe: a pod's membership of the node's probe sets, as istio-cni's node\n"
    "agent keeps it. An IPv4 address goes to istio-inpod-probes-v4, an IPv6 one to -v6; the\n"
    "member's comment is the pod's UID. add replaces the UID of a member that is there (the IP\n"
    "now belongs to this pod); del removes the member only when it carries this UID, else leaves\n"
    "it to the pod that holds it (a newer pod that reused the IP). The sets must exist (`snare\n"
    "ambient-host` creates them).\n\nusage: snare ambient-host probe add|del IP --pod-uid UID "
    "[FLAGS]\n\n";

// ::ffff:a.b.c.d is a.b.c.d (istio unmaps pod IPs before it picks the set).
IpAddr unmapped(IpAddr ip) {
  static constexpr unsigned char kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (!ip.v6 || !std::equal(kPrefix, kPrefix + 12, ip.bytes.begin())) return ip;
  IpAddr v4;
  std::copy(ip.bytes.begin() + 12, ip.bytes.end(), v4.bytes.begin());
  return v4;
}

Status bool_value(const std::string& text, const std::string& where, bool& out) {
  Parsed<bool> b = parse_bool(text);
  if (!b.ok()) return Status::Fail(fmt::format("{}: {}", where, b.error));
  out = b.value;
  return Status::Ok();
}

}  // namespace

Status parse_probe_args(const std::vector<std::string>& args, const EnvLookup& env,
                        ProbeRequest& out) {
  // add|del IP, then the flags.
  const std::string verb = args.empty() ? "" : args[0];
  const bool known = verb == "add" || verb == "del";
  const bool ip_given = known && args.size() > 1 && !args[1].starts_with("-");
  const size_t flags_at = known ? (ip_given ? 2 : 1) : 0;
  ArgvResult a =
      parse_argv(kProbeFlags,
                 std::vector<std::string>(args.begin() + static_cast<long>(flags_at), args.end()));
  if (a.help) {
    out.help = true;
    out.help_text = kAbout + options_help(kProbeFlags) +
                    "  -h, --help                                print this help and exit\n";
    return Status::Ok();
  }
  if (!known)
    return Status::Fail(fmt::format(
        "snare ambient-host probe: the first argument must be add or del, not \"{}\"", verb));
  if (!ip_given)
    return Status::Fail(fmt::format("snare ambient-host probe {}: the pod IP is missing", verb));
  if (!a.error.empty())
    return Status::Fail(
        fmt::format("{} (run `snare ambient-host probe --help` for the flags)", a.error));
  out.add = verb == "add";
  Parsed<IpAddr> ip = parse_ip(args[1]);
  if (!ip.ok()) return Status::Fail(fmt::format("snare ambient-host probe {}: {}", verb, ip.error));
  out.ip = unmapped(ip.value);
  if (!a.values[0]) return Status::Fail("--pod-uid is required");
  Parsed<std::string> uid = parse_pod_uid(*a.values[0]);
  if (!uid.ok()) return Status::Fail("--pod-uid: " + uid.error);
  out.pod_uid = uid.value;
  if (auto e = env("NATIVE_NFTABLES"))
    if (Status s = bool_value(*e, "environment NATIVE_NFTABLES", out.native_nftables); !s.ok())
      return s;
  if (a.values[1])
    if (Status s = bool_value(*a.values[1], "--native-nftables", out.native_nftables); !s.ok())
      return s;
  if (a.values[2])
    if (Status s = bool_value(*a.values[2], "--log_as_json", out.log_as_json); !s.ok()) return s;
  return Status::Ok();
}

}  // namespace snare
