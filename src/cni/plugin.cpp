// The CNI plugin (see plugin.h).
#include "cni/plugin.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/log.h"
#include "base/parse.h"
#include "cni/ambient.h"
#include "cni/netconf.h"
#include "cni/pod.h"
#include "cni/redirect.h"

namespace snare::cni {
namespace {

// What an ADD ends in: the result, or an error object.
struct Outcome {
  bool ok = true;
  CniError error;
};

Outcome fail(std::string msg) { return {false, {kErrInternal, std::move(msg), ""}}; }

// The variables the command needs (the CNI library's getCmdArgsFromEnv).
std::string missing_env(const CniEnv& e) {
  std::vector<std::string> missing;
  const bool add_check = e.command == "ADD" || e.command == "CHECK";
  if (e.container_id.empty() && e.command != "VERSION") missing.push_back("CNI_CONTAINERID");
  if (e.netns.empty() && add_check) missing.push_back("CNI_NETNS");
  if (e.ifname.empty() && e.command != "VERSION") missing.push_back("CNI_IFNAME");
  if (e.path.empty() && e.command != "VERSION") missing.push_back("CNI_PATH");
  return fmt::format("{}", fmt::join(missing, ","));
}

// The message of an API server's Status object, else the start of the body.
std::string api_message(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("message") && j["message"].is_string()) return j["message"];
  return body.substr(0, 200);
}

// CHECK exists from spec 0.4.0, GC and STATUS from 1.1.0 (the CNI library refuses older configs).
const char* needs_version(const std::string& command) {
  if (command == "CHECK") return "0.4.0";
  if (command == "GC" || command == "STATUS") return "1.1.0";
  return nullptr;
}

// Whether spec version `v` ("" = 0.1.0) comes before `least`: the supported list is in order.
bool older(const std::string& v, const char* least) {
  const auto& all = supported_versions();
  const auto at = [&](const std::string& x) {
    return std::find(all.begin(), all.end(), x) - all.begin();
  };
  return at(v.empty() ? "0.1.0" : v) < at(least);
}

// A file in the agent's run dir (Go's filepath.Join: no dir, the bare name).
std::string in_run_dir(const NetConf& conf, const char* name) {
  return conf.cni_agent_run_dir.empty() ? name : conf.cni_agent_run_dir + "/" + name;
}

bool is_cni_agent_pod(const NetConf& conf, const K8sArgs& k) {
  return k.pod_name.rfind("istio-cni-node-", 0) == 0 && k.pod_namespace == conf.pod_namespace;
}

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The time left until `deadline`, never negative.
milliseconds left(const PluginDeps& deps, Clock::time_point deadline) {
  return std::max(milliseconds(0), std::chrono::duration_cast<milliseconds>(deadline - deps.now()));
}

// What can get better by asking again: no answer (unless the client says it cannot), 429, 5xx.
bool transient(const KubeResponse& r) {
  return (!r.transport_error.empty() && !r.permanent) || r.status == 429 || r.status >= 500;
}

// The error object for the last answer `r`, after `attempts` of them.
Outcome api_failure(const KubeResponse& r, int attempts, const std::string& what,
                    const std::string& kubeconfig, milliseconds budget) {
  if (attempts == 0)
    return fail(
        fmt::format("{}: no time left to ask the API server (snare_add_timeout_seconds "
                    "is {} s)",
                    what, budget.count() / 1000.0));
  if (!r.transport_error.empty() && r.permanent)
    return fail(
        fmt::format("{}: {} (not retried: it does not get better by waiting; check the "
                    "server and CA in {})",
                    what, r.transport_error, kubeconfig));
  if (!r.transport_error.empty())
    return fail(
        fmt::format("cannot reach the API server after {} attempts within the ADD's "
                    "{} s (snare_add_timeout_seconds): {}",
                    attempts, budget.count() / 1000.0, r.transport_error));
  // The ambient lookup reads the namespace too: the RBAC rule to check is the one refused.
  const char* rule = what.rfind("GET namespace", 0) == 0 ? "get namespaces" : "get pods";
  return fail(
      fmt::format("{}: the API server answered {}: {}{}", what, r.status, api_message(r.body),
                  r.status == 401 || r.status == 403
                      ? fmt::format(" (check the token in {} and its RBAC: {})", kubeconfig, rule)
                      : ""));
}

// GET the pod before `deadline`, retrying transient failures (each try gets at most the time
// left); `agent` set when it is istio-cni's own agent pod (let through while the API cannot be
// reached, as istio does).
Outcome get_pod(const NetConf& conf, const K8sArgs& k, PluginDeps& deps, Clock::time_point deadline,
                milliseconds budget, std::string& body, bool& agent) {
  KubeConfig kc;
  const std::string path = in_run_dir(conf, "istio-cni-kubeconfig");
  if (Status s = deps.load_kubeconfig(path, kc); !s.ok())
    return fail("failed to create a Kubernetes client: " + s.error);
  auto api = deps.make_api(kc);
  const std::string url = fmt::format("/api/v1/namespaces/{}/pods/{}", k.pod_namespace, k.pod_name);
  KubeResponse r;
  int attempt = 0;
  while (attempt < deps.attempts && left(deps, deadline) > milliseconds(0)) {
    r = api->get(url, std::min(deps.attempt_timeout, left(deps, deadline)));
    ++attempt;
    if (r.status == 200) return (body = r.body, Outcome{});
    if (!transient(r)) break;
    log_debug("GET {}: {} (attempt {} of {})", valid_utf8(url),
              valid_utf8(r.transport_error.empty() ? std::to_string(r.status) : r.transport_error),
              attempt, deps.attempts);
    if ((agent = is_cni_agent_pod(conf, k))) return {};
    if (attempt < deps.attempts) deps.sleep(std::min(deps.interval, left(deps, deadline)));
  }
  if ((agent = !r.transport_error.empty() && is_cni_agent_pod(conf, k))) return {};
  return api_failure(r, attempt, fmt::format("GET pod {}/{}", k.pod_namespace, k.pod_name), path,
                     budget);
}

// istio's ambient test from the pod's and its namespace's objects.
Status decide(const std::string& pod_json, const std::string& ns_json, const NetConf& conf,
              bool& ambient) {
  PodInfo pod;
  std::map<std::string, std::string> ns_labels;
  if (Status s = parse_pod(pod_json, pod); !s.ok()) return s;
  if (Status s = object_labels(ns_json, ns_labels); !s.ok()) return s;
  return is_ambient_pod(pod, ns_labels, conf.enablement_selectors, ambient);
}

// istio's isAmbientPod: GET the pod and its namespace, 2 attempts 1 s apart (31 with
// enable_ambient_detection_retry), then the enablement selectors. Only with that key does a
// failure fail the ADD; without it the pod counts as not ambient, as in istio. Unlike istio, a
// failure asking again cannot mend (401, 404, a bad CA) ends the asking at once.
Outcome lookup_ambient(const NetConf& conf, const K8sArgs& k, PluginDeps& deps,
                       Clock::time_point deadline, milliseconds budget, bool& ambient) {
  KubeConfig kc;
  const std::string path = in_run_dir(conf, "istio-cni-kubeconfig");
  if (Status s = deps.load_kubeconfig(path, kc); !s.ok())
    return fail("failed to create a Kubernetes client: " + s.error);
  auto api = deps.make_api(kc);
  const int attempts = conf.enable_ambient_detection_retry ? 31 : 2;
  const std::string pod_url =
      fmt::format("/api/v1/namespaces/{}/pods/{}", k.pod_namespace, k.pod_name);
  KubeResponse r;
  std::string what, pod_body;
  Outcome failed;
  int attempt = 0;
  while (attempt < attempts && left(deps, deadline) > milliseconds(0)) {
    ++attempt;
    r = api->get(pod_url, std::min(deps.attempt_timeout, left(deps, deadline)));
    what = fmt::format("GET pod {}/{}", k.pod_namespace, k.pod_name);
    if (r.status == 200) {
      pod_body = r.body;
      what = fmt::format("GET namespace {}", k.pod_namespace);
      r = api->get("/api/v1/namespaces/" + k.pod_namespace,
                   std::min(deps.attempt_timeout, left(deps, deadline)));
    }
    if (r.status == 200) {
      Status s = decide(pod_body, r.body, conf, ambient);
      if (s.ok()) return {};
      failed = fail(fmt::format("pod {}/{}: {}", k.pod_namespace, k.pod_name, s.error));
      break;
    }
    if (!transient(r)) break;
    if (attempt < attempts) deps.sleep(std::min(deps.interval, left(deps, deadline)));
  }
  if (failed.ok) failed = api_failure(r, attempt, what, path, budget);
  ambient = false;
  if (conf.enable_ambient_detection_retry) return failed;
  log_warn(
      "cannot tell whether pod {}/{} is ambient ({}); going on as for a sidecar pod, as istio "
      "does without enable_ambient_detection_retry",
      valid_utf8(k.pod_namespace), valid_utf8(k.pod_name), valid_utf8(failed.error.msg));
  return {};
}

// istio's hand-off: one POST of the event to the node agent's socket, 5 s, no retry. Anything
// but 200 fails the ADD, so an ambient pod never starts without its rules.
Outcome hand_off(const CniEnv& env, const NetConf& conf, const K8sArgs& k, PluginDeps& deps,
                 Clock::time_point deadline) {
  const std::string prefix = "istio-cni cmdAdd failed to contact node Istio CNI agent: ";
  std::string body;
  if (Status s = add_event_body(env.netns, k, conf.prev_result, body); !s.ok())
    return fail(prefix + s.error);
  const std::string socket = in_run_dir(conf, kAgentSocketName);
  const milliseconds timeout = std::min(deps.agent_timeout, left(deps, deadline));
  if (timeout <= milliseconds(0))
    return fail(prefix + "no time left for the node agent (snare_add_timeout_seconds)");
  AgentResponse r = deps.make_agent()->post(socket, kAgentAddPath, body, timeout);
  if (!r.transport_error.empty())
    return fail(prefix + "failed to send event request: " + r.transport_error +
                " (is istio-cni's node agent running on this node?)");
  if (r.status != 200)
    return fail(
        fmt::format("{}unable to push CNI event (status code {}): {}", prefix, r.status, r.body));
  log_info("pod {}/{}: ambient, handed to istio-cni's node agent at {}",
           valid_utf8(k.pod_namespace), valid_utf8(k.pod_name), valid_utf8(socket));
  return {};
}

Outcome add(const CniEnv& env, const NetConf& conf, PluginDeps& deps, Clock::time_point start) {
  K8sArgs k;
  if (std::string err; !parse_k8s_args(env.args, k, err)) return fail(err);
  const std::string pod = valid_utf8(k.pod_namespace + "/" + k.pod_name);  // for messages
  if (k.pod_name.empty() || k.pod_namespace.empty())
    return (log_debug("not a Kubernetes pod"), Outcome{});
  const auto& ex = conf.exclude_namespaces;
  if (std::find(ex.begin(), ex.end(), k.pod_namespace) != ex.end())
    return (log_info("pod {}: namespace {} excluded", pod, k.pod_namespace), Outcome{});
  const milliseconds budget = conf.add_timeout.count() ? conf.add_timeout : deps.budget;
  if (conf.ambient_enabled) {
    if (is_cni_agent_pod(conf, k)) return {};
    bool ambient = false;
    if (Outcome o = lookup_ambient(conf, k, deps, start + budget, budget, ambient); !o.ok) return o;
    if (ambient) return hand_off(env, conf, k, deps, start + budget);
  }
  std::string body, skip;
  bool agent = false;
  if (Outcome o = get_pod(conf, k, deps, start + budget, budget, body, agent); !o.ok || agent)
    return o;
  std::vector<std::string> flags;
  if (Status s = pod_flags(body, flags, skip); !s.ok())
    return fail(fmt::format("pod {}: {}", pod, s.error));
  if (!skip.empty()) return (log_info("pod {}: left alone: {}", pod, skip), Outcome{});
  flags.insert(flags.end(), {"--network-namespace", env.netns});
  if (conf.native_nftables) flags.push_back("--native-nftables");
  log_info("pod {}: {} rules in {}", pod, conf.native_nftables ? "nftables" : "iptables",
           valid_utf8(env.netns));
  std::string error;
  if (int rc = deps.apply(flags, error); rc != 0)
    return fail(
        fmt::format("pod {}: {}", pod, error.empty() ? "applying the rules failed" : error));
  return {};
}

}  // namespace

Status pod_flags(const std::string& pod_json, std::vector<std::string>& flags, std::string& skip) {
  PodInfo info;
  if (Status s = parse_pod(pod_json, info); !s.ok()) return s;
  if (!(skip = skip_reason(info)).empty()) return Status::Ok();
  Redirect r;
  if (Status s = redirect_flags(info, r); !s.ok()) return s;
  for (const std::string& w : r.warnings) log_warn("{}", w);
  flags = std::move(r.flags);
  return Status::Ok();
}

namespace {

int run_unchecked(const CniEnv& env, const std::string& stdin_text, PluginDeps& deps,
                  std::string& out) {
  const Clock::time_point start = deps.now();
  auto error = [&](const CniError& e, const std::string& version) {
    log_error("istio-cni {}: {}{}", valid_utf8(env.command), valid_utf8(e.msg),
              e.details.empty() ? "" : "; " + valid_utf8(e.details));
    out = error_text(e, version);
    return 1;
  };
  if (env.command == "VERSION") return (out = version_text(), 0);
  if (env.command.empty())
    return error({kErrInvalidEnvironment, "required env variables [CNI_COMMAND] missing", ""}, "");
  const std::vector<std::string> known = {"ADD", "DEL", "CHECK", "GC", "STATUS"};
  if (std::find(known.begin(), known.end(), env.command) == known.end())
    return error({kErrInvalidEnvironment, "unknown CNI_COMMAND: " + env.command, ""}, "");
  if (const std::string m = missing_env(env);
      !m.empty() && env.command != "GC" && env.command != "STATUS")
    return error(
        {kErrInvalidEnvironment, fmt::format("required env variables [{}] missing", m), ""}, "");
  NetConf conf;
  CniError e;
  if (!parse_netconf(stdin_text, conf, e)) return error(e, conf.cni_version);
  if (auto level = parse_log_level(conf.plugin_log_level);
      !conf.plugin_log_level.empty() && level.ok())
    log_configure(level.value, true);
  if (const char* least = needs_version(env.command); least && older(conf.cni_version, least))
    return error({kErrIncompatibleVersion, "config version does not allow " + env.command, ""},
                 conf.cni_version);
  if (env.command != "ADD") return 0;  // DEL, CHECK, GC, STATUS: nothing to do, as in istio
  Outcome o = add(env, conf, deps, start);
  if (!o.ok) return error(o.error, conf.cni_version);
  out = result_text(conf);
  return 0;
}

}  // namespace

int run_plugin(const CniEnv& env, const std::string& stdin_text, PluginDeps& deps,
               std::string& out) {
  // Nothing the runtime, the node or the API server hands over may end the process without an
  // error object: the runtime would see a crash and no reason.
  std::string why;
  try {
    return run_unchecked(env, stdin_text, deps, out);
  } catch (const std::exception& e) {
    why = e.what();
  } catch (...) {
    why = "unknown exception";
  }
  try {
    log_error("istio-cni {}: internal error: {}", valid_utf8(env.command), valid_utf8(why));
  } catch (...) {
  }
  out = error_text({kErrInternal, "internal error: " + why, ""}, "");
  return 1;
}

}  // namespace snare::cni
