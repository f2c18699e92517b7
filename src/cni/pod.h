// What istio-cni reads from a pod (its PodInfo, cni/pkg/plugin/kubernetes.go): container names
// (init containers included: the sidecar may be a native sidecar), labels, annotations, and the
// istio-proxy container's environment, `proxy <type>` arguments and securityContext IDs.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "base/status.h"

namespace snare::cni {

struct PodInfo {
  std::set<std::string> containers;
  std::map<std::string, std::string> labels, annotations;
  std::map<std::string, std::string> proxy_env;  // value "" for valueFrom entries, as in Go
  std::string proxy_type;                        // from args `proxy sidecar`; "" when absent
  std::optional<int64_t> proxy_uid, proxy_gid;   // runAsUser / runAsGroup
};

// A pod object as the API server returns it (JSON).
Status parse_pod(const std::string& json_text, PodInfo& out);

}  // namespace snare::cni
