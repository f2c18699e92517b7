// `snare ambient-host probe add|del IP --pod-uid UID [--native-nftables]`: one pod's membership
// of the node's probe sets, as istio-cni's agent keeps it (an IPv4 address in
// istio-inpod-probes-v4, an IPv6 one in -v6, the member's comment the pod's UID). The arguments
// follow the same argv grammar (config/argv.h) and value parsers (base/parse.h) as the rule
// flags; the work is apply/probe.h's.
#pragma once

#include <string>
#include <vector>

#include "base/parse.h"
#include "base/status.h"
#include "config/flags.h"

namespace snare {

struct ProbeRequest {
  bool add = true;  // false: del
  IpAddr ip;        // an IPv4-mapped IPv6 address is taken as the IPv4 one, as istio does
  std::string pod_uid;
  bool native_nftables = false;
  bool log_as_json = false;
  bool help = false;
  std::string help_text;
};

// `args` after `probe`. The first error is one sentence naming the argument or flag.
Status parse_probe_args(const std::vector<std::string>& args, const EnvLookup& env,
                        ProbeRequest& out);

}  // namespace snare
