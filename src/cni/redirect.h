// istio-cni's decisions for a sidecar pod, the same as istio 1.30's plugin (plugin.go doAddRun,
// sidecar_redirect.go NewRedirect, sidecar_iptables_linux.go Program): whether the pod gets rules
// at all, and which, expressed as snare's (istio-iptables') flags.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "cni/pod.h"

namespace snare::cni {

// Why the plugin leaves the pod alone ("" when it gets rules), checked in istio's order: an
// istio-init container, DISABLE_ENVOY, no istio-proxy container, a proxy type other than sidecar,
// injection disabled (label over annotation), no sidecar.istio.io/status annotation.
std::string skip_reason(const PodInfo& pod);

struct Redirect {
  std::vector<std::string> flags;     // -p 15001 -u 1337 -g 1337 -m REDIRECT -i '*' ...
  std::vector<std::string> warnings;  // unparsable booleans in the proxy's environment
};

// The pod's rules as flags: annotations (validated as istio validates them; an invalid one fails
// naming it), the istio-proxy container's environment (ISTIO_META_DNS_CAPTURE, ISTIO_DUAL_STACK,
// INVALID_DROP) and its securityContext's UID/GID (0 or absent: 1337).
Status redirect_flags(const PodInfo& pod, Redirect& out);

}  // namespace snare::cni
