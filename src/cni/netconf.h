// The CNI protocol's inputs as istio-cni reads them: the network configuration on stdin (the CNI
// library's checks, then istio-cni's keys and prevResult) and the Kubernetes pod in CNI_ARGS.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace snare::cni {

// A CNI error object: `{"cniVersion", "code", "msg", "details"}` on stdout, exit 1.
struct CniError {
  unsigned code = 0;
  std::string msg, details;
};

// The most `snare_add_timeout_seconds` may be: well inside the 2 minutes a kubelet gives the
// runtime for the call, so the runtime still sees the error object.
constexpr double kMaxAddTimeoutSeconds = 100;

// The CNI library's error codes that the plugin uses.
constexpr unsigned kErrIncompatibleVersion = 1;
constexpr unsigned kErrInvalidEnvironment = 4;
constexpr unsigned kErrIOFailure = 5;
constexpr unsigned kErrDecodingFailure = 6;
constexpr unsigned kErrInvalidNetworkConfig = 7;
constexpr unsigned kErrInternal = 999;

// The spec versions the plugin accepts (the CNI library's version.All, as istio links it).
const std::vector<std::string>& supported_versions();

struct NetConf {
  std::string cni_version;  // as given; "" reads as 0.1.0
  std::string name, type;
  std::string plugin_log_level;
  std::string cni_agent_run_dir;
  bool ambient_enabled = false;
  // istio's ambient keys: the selectors (null when absent: no pod is ambient) and whether the
  // ambient lookup retries for 30 s and fails the ADD when it cannot decide.
  nlohmann::ordered_json enablement_selectors;
  bool enable_ambient_detection_retry = false;
  std::vector<std::string> exclude_namespaces;
  std::string pod_namespace;  // the istio-cni agent's own namespace
  bool native_nftables = false;
  // snare's own key: how long an ADD may take in all (0: the plugin's default).
  std::chrono::milliseconds add_timeout{0};
  nlohmann::ordered_json prev_result;  // null when absent; key order kept for the output
};

// Parses stdin as the CNI library and istio-cni do: JSON, a valid network name, a supported
// cniVersion, then istio-cni's keys with their types. False with `err` filled otherwise.
bool parse_netconf(const std::string& text, NetConf& out, CniError& err);

struct K8sArgs {
  std::string pod_name, pod_namespace;
};

// CNI_ARGS (`IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p;...`) as the CNI library's
// LoadArgs reads it into istio's K8sArgs: unknown keys are an error unless IgnoreUnknown is true.
bool parse_k8s_args(const std::string& args, K8sArgs& out, std::string& err);

// What ADD prints on success: prevResult unchanged (its cniVersion filled in when missing), or a
// result with only the cniVersion when there is none.
std::string result_text(const NetConf& conf);

// The error object for `conf_version` ("" when unknown: the plugin's newest).
std::string error_text(const CniError& e, const std::string& conf_version);

// `s` with every byte that is not part of valid UTF-8 replaced by U+FFFD: for log lines, which
// are JSON and must stay so whatever the runtime put in the environment.
std::string valid_utf8(const std::string& s);

// The VERSION reply: the newest version and every supported one.
std::string version_text();

}  // namespace snare::cni
