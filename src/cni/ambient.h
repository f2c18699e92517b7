// istio-cni's ambient hand-off, the parts without I/O: whether a pod is ambient (istio's
// enablement selectors: k8s label selectors on the pod's and its namespace's labels), the event
// body the plugin POSTs to the node agent, and the `snare ambient` flags a pod's annotations give
// (for `snare-cni print-flags`).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/status.h"
#include "cni/netconf.h"
#include "cni/pod.h"

namespace snare::cni {

// The node agent's socket in `cni_agent_run_dir`, and the path the plugin posts to.
constexpr const char* kAgentSocketName = "pluginevent.sock";
constexpr const char* kAgentAddPath = "/cmdadd";

// istio's helm default: the pod is labelled istio.io/dataplane-mode=ambient, or its namespace is
// and the pod is not labelled =none.
extern const char* const kDefaultEnablementSelectors;

// The JSON types of `enablement_selectors` (a list of {podSelector, namespaceSelector}, each a
// label selector): what Go's json.Unmarshal refuses, as an exception naming the place.
void check_selector_types(const nlohmann::ordered_json& selectors);

// istio's test: false when the pod has a sidecar (annotation sidecar.istio.io/status); else true
// when some selector's podSelector matches the pod's labels and its namespaceSelector the
// namespace's. An absent or empty selector matches everything. A selector k8s would refuse
// (`In` without values, an unknown operator) is an error.
Status is_ambient_pod(const PodInfo& pod, const std::map<std::string, std::string>& ns_labels,
                      const nlohmann::ordered_json& selectors, bool& ambient);

// The labels of an object (a namespace) as the API server returns it.
Status object_labels(const std::string& json_text, std::map<std::string, std::string>& labels);

// The body istio's plugin posts: Go's json.Marshal of its CNIPluginAddEvent (Netns, PodName,
// PodNamespace, IPs from prevResult with the mask in base64 and "" for an absent gateway).
Status add_event_body(const std::string& netns, const K8sArgs& k,
                      const nlohmann::ordered_json& prev_result, std::string& body);

// The `snare ambient` flags of the pod's annotations (ambient.istio.io/bypass-inbound-capture,
// ambient.istio.io/dns-capture, istio.io/reroute-virtual-interfaces), read as istio's agent
// reads them: a boolean Go cannot parse counts as absent.
std::vector<std::string> ambient_flags(const PodInfo& pod);

}  // namespace snare::cni
