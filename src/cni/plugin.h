// The CNI plugin: one invocation of istio-cni's sidecar plugin (istio 1.30 cni/pkg/plugin), with
// snare's rule code behind it.
//
// VERSION answers with the supported spec versions. ADD reads the network configuration and the
// pod named in CNI_ARGS; a pod in an excluded namespace, one the API server says istio-cni leaves
// alone (redirect.h), or no pod at all passes through. Otherwise the pod's flags are applied in
// CNI_NETNS through the same code as the init container (iptables, or nftables with
// `native_nftables`), all or nothing. Success prints prevResult unchanged; any failure prints a
// CNI error object and exits 1 (the runtime then fails the sandbox, and the pod never starts
// uncaptured). DEL, CHECK, GC and STATUS succeed without output, as istio's do: the rules live and
// die with the pod's namespace. Logs go to stderr only.
//
// With `ambient_enabled`, as istio's plugin: after the excluded namespaces, the pod and its
// namespace are looked up (2 attempts 1 s apart; 31 and a failed ADD when they cannot be read with
// `enable_ambient_detection_retry`, else the pod counts as not ambient) and matched against
// `enablement_selectors`; an ambient pod (no sidecar, a selector matching) is handed to istio's
// node agent: one POST of istio's event to <cni_agent_run_dir>/pluginevent.sock (5 s, no retry).
// Only a 200 lets the ADD succeed (prevResult printed); no agent or another status is a CNI error.
// Sidecar pods keep the path above.
//
// The API server is asked with istio's policy (30 attempts, 1 s apart), but only a transient
// failure (no answer, 429, 5xx) is retried: a refusal (401, 403), a 404 or a failure waiting
// cannot mend (the CA, the host name, the URL) is final at once. The whole ADD has a time limit
// (60 s, or netconf's snare_add_timeout_seconds), well inside the 2 minutes a runtime waits, and
// each request gets at most what is left of it. Whatever the inputs, the answer is a result or a
// CNI error object: nothing throws out of run_plugin.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cni/cni_agent.h"
#include "cni/kube_api.h"

namespace snare::cni {

struct CniEnv {
  std::string command, container_id, netns, ifname, args, path;
};

struct PluginDeps {
  std::function<Status(const std::string& path, KubeConfig& out)> load_kubeconfig;
  std::function<std::unique_ptr<KubeApi>(const KubeConfig&)> make_api;
  // Applies snare flags (the pod's, --network-namespace, the mode); returns the exit code and,
  // on failure, why.
  std::function<int(const std::vector<std::string>& flags, std::string& error)> apply;
  std::function<void(std::chrono::milliseconds)> sleep;
  std::function<std::unique_ptr<CniAgent>()> make_agent;
  // The node agent's POST (istio's http.Client timeout), at most what is left of the ADD.
  std::chrono::milliseconds agent_timeout{5000};
  std::function<std::chrono::steady_clock::time_point()> now = std::chrono::steady_clock::now;
  int attempts = 30;
  std::chrono::milliseconds interval{1000};
  std::chrono::milliseconds attempt_timeout{5000};
  // The whole ADD, API retries included (netconf's snare_add_timeout_seconds overrides it).
  std::chrono::milliseconds budget{60000};
};

// One invocation; the result or error object goes to `out`, the exit code is returned.
int run_plugin(const CniEnv& env, const std::string& stdin_text, PluginDeps& deps,
               std::string& out);

// The pod's snare flags without the namespace (for `snare-cni print-flags` and the apply).
// An empty `flags` with an ok Status: the pod is left alone, `skip` says why.
Status pod_flags(const std::string& pod_json, std::vector<std::string>& flags, std::string& skip);

}  // namespace snare::cni
