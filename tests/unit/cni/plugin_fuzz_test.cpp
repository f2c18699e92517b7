// The plugin on mutated inputs: a seeded, deterministic fuzz over every input a runtime, the node
// or the API server controls (the CNI variables, stdin, the kubeconfig, the API server's answers,
// the ambient keys, the namespace and prevResult's IPs, the node agent's answer).
// Whatever they hold, one invocation ends in a well-formed CNI answer (a result, the VERSION
// reply, nothing for DEL/CHECK, or an error object with exit 1 or 2) and never in an exception.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <random>

#include "base/log.h"
#include "cni/plugin.h"
#include "fakes/cni_env.h"
#include "fakes/plugin_rig.h"

using namespace snare;
using namespace snare::cni;
using nlohmann::json;
using snare::cni::testing::PluginRig;

namespace {

const std::string kRaw = "@@RAW@@";  // stands for raw bytes that nlohmann::json cannot hold

const char* const kNetconf =
    R"({"cniVersion":"1.0.0","name":"k8s","type":"istio-cni","cni_agent_run_dir":"/r",)"
    R"("exclude_namespaces":["kube-system"],)"
    R"("pod_namespace":"istio-system","native_nftables":false,"snare_add_timeout_seconds":30,)"
    R"("prevResult":{"cniVersion":"1.0.0","interfaces":[{"name":"eth0"}]}})";
// The ambient path: helm's selectors, a namespace labelled ambient, a pod without a sidecar.
const char* const kAmbientNetconf =
    R"({"cniVersion":"1.0.0","name":"k8s","type":"istio-cni","cni_agent_run_dir":"/r",)"
    R"("exclude_namespaces":["kube-system"],"ambient_enabled":true,)"
    R"("enable_ambient_detection_retry":false,"enablement_selectors":[{"podSelector":{"matchLabels":)"
    R"({"istio.io/dataplane-mode":"ambient"}}},{"podSelector":{"matchExpressions":[{"key":)"
    R"("istio.io/dataplane-mode","operator":"NotIn","values":["none"]}]},"namespaceSelector":)"
    R"({"matchLabels":{"istio.io/dataplane-mode":"ambient"}}}],"prevResult":{"cniVersion":"1.0.0",)"
    R"("interfaces":[{"name":"eth0"}],"ips":[{"interface":0,"address":"10.1.0.5/24",)"
    R"("gateway":"10.1.0.1"},{"address":"fd00::5/64"}]}})";
const char* const kNamespace =
    R"({"kind":"Namespace","metadata":{"name":"default","labels":{"istio.io/dataplane-mode":"ambient"}}})";
const char* const kAmbientPod =
    R"({"kind":"Pod","metadata":{"labels":{"app":"web"},"annotations":{"x":"y"}},)"
    R"("spec":{"containers":[{"name":"app"}]}})";
const char* const kPod =
    R"({"kind":"Pod","metadata":{"labels":{"app":"web"},"annotations":{"sidecar.istio.io/status":"x",)"
    R"("traffic.sidecar.istio.io/includeInboundPorts":"80"}},"spec":{"containers":[{"name":"app"},)"
    R"({"name":"istio-proxy","args":["proxy","sidecar"],"env":[{"name":"ISTIO_META_DNS_CAPTURE",)"
    R"("value":"true"}],"securityContext":{"runAsUser":1337,"runAsGroup":1337}}]}})";
const char* const kStatus = R"({"kind":"Status","message":"pods \"web\" is forbidden","code":403})";
const char* const kKubeconfig = R"(apiVersion: v1
clusters:
- cluster: {certificate-authority-data: aGVsbG8=, server: "https://10.0.0.1:443"}
  name: c
contexts:
- context: {cluster: c, user: u}
  name: ctx
current-context: ctx
users:
- name: u
  user: {token: abc}
)";
const char* const kKubeconfigJson =
    R"({"clusters":[{"name":"c","cluster":{"server":"https://x","insecure-skip-tls-verify":true}}],)"
    R"("contexts":[{"name":"ctx","context":{"cluster":"c","user":"u"}}],"current-context":"ctx",)"
    R"("users":[{"name":"u","user":{"token":"t","client-certificate-data":"aGk="}}]})";

const std::vector<std::string> kRawBytes = {"\xff",     "\xc3", "\xe2\x82", "\xed\xa0\x80",
                                            "\xc0\xaf", "\x80", "\xfe\xff", std::string("\0", 1),
                                            "\x7f"};
const std::vector<std::string> kKeys = {"kind",
                                        "message",
                                        "metadata",
                                        "annotations",
                                        "labels",
                                        "spec",
                                        "containers",
                                        "initContainers",
                                        "name",
                                        "env",
                                        "args",
                                        "value",
                                        "securityContext",
                                        "runAsUser",
                                        "cniVersion",
                                        "prevResult",
                                        "type",
                                        "plugin_log_level",
                                        "exclude_namespaces",
                                        "native_nftables",
                                        "cni_agent_run_dir",
                                        "ambient_enabled",
                                        "pod_namespace",
                                        "snare_add_timeout_seconds",
                                        "current-context",
                                        "contexts",
                                        "clusters",
                                        "users",
                                        "server",
                                        "token",
                                        "cluster",
                                        "user",
                                        "context",
                                        "certificate-authority-data",
                                        "insecure-skip-tls-verify",
                                        "tokenFile",
                                        "exec",
                                        "enablement_selectors",
                                        "enable_ambient_detection_retry",
                                        "podSelector",
                                        "namespaceSelector",
                                        "matchLabels",
                                        "matchExpressions",
                                        "operator",
                                        "values",
                                        "key",
                                        "ips",
                                        "ip4",
                                        "address",
                                        "gateway",
                                        "interface"};
const std::vector<std::string> kSnippets = {"\xff",       "\xc3",
                                            "null",       "[]",
                                            "{}",         "\"",
                                            "\\",         ":",
                                            ",",          "1e999",
                                            "-1",         "true",
                                            "\n",         "- ",
                                            "!!binary ",  "&a ",
                                            "*a",         "{{",
                                            "]]",         "'",
                                            "\t",         "current-context: nope\n",
                                            "%YAML 1.2\n"};

template <typename T>
const T& pick(std::mt19937& rng, const std::vector<T>& v) {
  return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)];
}
bool chance(std::mt19937& rng, double p) { return std::bernoulli_distribution(p)(rng); }

json random_value(std::mt19937& rng) {
  switch (std::uniform_int_distribution<int>(0, 12)(rng)) {
    case 0:
      return nullptr;
    case 1:
      return 42;
    case 2:
      return -1;
    case 3:
      return 1.5;
    case 4:
      return true;
    case 5:
      return "";
    case 6:
      return kRaw;
    case 7:
      return json::array();
    case 8:
      return json::object();
    case 9:
      return json::array({"a", 1, nullptr});
    case 10:
      return json{{"k", kRaw}};
    case 11:
      return "Pod";
    default:
      return pick(rng, kKeys);
  }
}

// Replaces a random node of `j` (or adds a known key to an object on the way) with a value of a
// random type.
void mutate_tree(json& j, std::mt19937& rng) {
  json* at = &j;
  while ((at->is_object() || at->is_array()) && !at->empty() && chance(rng, 0.75)) {
    if (at->is_object() && chance(rng, 0.15)) {
      (*at)[pick(rng, kKeys)] = random_value(rng);
      return;
    }
    auto it = at->begin();
    std::advance(it, std::uniform_int_distribution<size_t>(0, at->size() - 1)(rng));
    at = &*it;
  }
  *at = random_value(rng);
}

void mutate_bytes(std::string& s, std::mt19937& rng) {
  const size_t at = s.empty() ? 0 : std::uniform_int_distribution<size_t>(0, s.size() - 1)(rng);
  switch (std::uniform_int_distribution<int>(0, 5)(rng)) {
    case 0:
      if (!s.empty()) s[at] = static_cast<char>(std::uniform_int_distribution<int>(0, 255)(rng));
      break;
    case 1:
      s.insert(at, pick(rng, kRawBytes));
      break;
    case 2:
      s.insert(at, pick(rng, kSnippets));
      break;
    case 3:
      s.erase(at, std::uniform_int_distribution<size_t>(1, 16)(rng));
      break;
    case 4:
      s.resize(at);
      break;
    default:
      s.insert(at, s.substr(at, std::uniform_int_distribution<size_t>(1, 32)(rng)));
  }
}

// A JSON text, structurally mutated (raw bytes where kRaw was), sometimes byte-mutated too.
std::string mutate_json(const char* base, std::mt19937& rng) {
  json j = json::parse(base);
  for (int n = std::uniform_int_distribution<int>(1, 3)(rng); n > 0; --n) mutate_tree(j, rng);
  std::string text = j.dump();
  for (size_t p; (p = text.find(kRaw)) != std::string::npos;)
    text.replace(p, kRaw.size(), pick(rng, kRawBytes));
  if (chance(rng, 0.3)) mutate_bytes(text, rng);
  return text;
}

std::string mutate_text(std::string s, std::mt19937& rng) {
  for (int n = std::uniform_int_distribution<int>(1, 4)(rng); n > 0; --n) mutate_bytes(s, rng);
  return s;
}

struct Case {
  CniEnv env = snare::cni::testing::web_add_env();
  std::string stdin_text = kNetconf, kubeconfig = kKubeconfig;
  std::deque<KubeResponse> answers{{200, kPod, "", false}};
  std::deque<KubeResponse> ns_answers{{200, kNamespace, "", false}};
  AgentResponse agent{200, "", ""};
};

Case random_case(std::mt19937& rng) {
  Case c;
  if (chance(rng, 0.15))
    c.env.command = pick(rng, std::vector<std::string>{"ADD", "DEL", "CHECK", "VERSION", "GC",
                                                       "STATUS", "", "ADD\xff", "add", "\xc3"});
  for (std::string* v :
       {&c.env.container_id, &c.env.netns, &c.env.ifname, &c.env.args, &c.env.path})
    if (chance(rng, 0.05)) *v = chance(rng, 0.3) ? "" : mutate_text(*v, rng);
  const bool ambient = chance(rng, 0.4);
  const char* netconf = ambient ? kAmbientNetconf : kNetconf;
  const char* pod = ambient && chance(rng, 0.7) ? kAmbientPod : kPod;
  c.stdin_text = netconf;
  c.answers = {{200, pod, "", false}};
  if (chance(rng, 0.3))
    c.stdin_text = chance(rng, 0.2) ? mutate_text(netconf, rng) : mutate_json(netconf, rng);
  if (chance(rng, 0.2))
    c.kubeconfig =
        chance(rng, 0.5) ? mutate_text(kKubeconfig, rng) : mutate_json(kKubeconfigJson, rng);
  if (chance(rng, 0.5)) {
    static const std::vector<long> kCodes = {200, 200, 200, 401, 403, 404, 429, 500, 503, 0};
    KubeResponse r{pick(rng, kCodes), "", "", chance(rng, 0.5)};
    r.body = chance(rng, 0.5) ? mutate_json(chance(rng, 0.7) ? pod : kStatus, rng)
                              : mutate_text(r.status == 200 ? pod : kStatus, rng);
    if (r.status == 0) r.transport_error = "https://x/api: " + mutate_text("SSL error", rng);
    c.answers = {r};
    if (chance(rng, 0.3)) c.answers.push_back({200, mutate_json(pod, rng), "", false});
  }
  if (ambient && chance(rng, 0.3))
    c.ns_answers = {{chance(rng, 0.8) ? 200 : 503,
                     chance(rng, 0.7) ? mutate_json(kNamespace, rng) : mutate_text(kNamespace, rng),
                     "", false}};
  if (ambient && chance(rng, 0.3)) {
    static const std::vector<long> kAgentCodes = {200, 400, 404, 500, 0};
    c.agent = {pick(rng, kAgentCodes), mutate_text("no ztunnel connection\n", rng), ""};
    if (c.agent.status == 0) c.agent = {0, "", mutate_text("Couldn't connect to server", rng)};
  }
  return c;
}

// "" when `out` is a well-formed answer for exit code `rc`, else what is wrong with it.
std::string malformed(const Case& c, int rc, const std::string& out) {
  if (rc == 0 && out.empty()) return c.env.command == "ADD" ? "ADD printed nothing" : "";
  json j = json::parse(out, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return "stdout is not a JSON object";
  if (!j.contains("cniVersion") || !j["cniVersion"].is_string()) return "no cniVersion";
  if (rc == 0) return "";
  if (rc != 1 && rc != 2) return "exit code " + std::to_string(rc);
  if (!j.contains("code") || !j["code"].is_number_unsigned()) return "no numeric code";
  if (!j.contains("msg") || !j["msg"].is_string() || j["msg"].get<std::string>().empty())
    return "no msg";
  return "";
}

}  // namespace

TEST_CASE("fuzz: any environment, stdin, kubeconfig or API answer ends in a CNI answer",
          "[cni][fuzz]") {
  log_configure(LogLevel::none, true);
  std::mt19937 rng(20261207);
  int failures = 0;
  std::string first;
  for (int i = 0; i < 20000; ++i) {
    const Case c = random_case(rng);
    // The rig's own stdin and env go unused: the case brings its own.
    PluginRig rig({{"/api/v1/namespaces/default/pods/web", c.answers},
                   {"/api/v1/namespaces/default", c.ns_answers}},
                  c.env, "", "");
    rig.agent_answer = c.agent;
    rig.deps.load_kubeconfig = [&](const std::string& path, KubeConfig& k) {
      return parse_kubeconfig(c.kubeconfig, path, k);
    };
    std::string out, why;
    int rc = -1;
    try {
      rc = run_plugin(c.env, c.stdin_text, rig.deps, out);
      why = malformed(c, rc, out);
    } catch (const std::exception& e) {
      why = std::string("exception: ") + e.what();
    }
    log_configure(LogLevel::none, true);  // plugin_log_level in stdin may have raised it
    if (why.empty()) continue;
    if (++failures == 1)
      first = fmt::format(
          "case {}: {}\nCNI_COMMAND={} CNI_ARGS={}\nstdin: {}\nkubeconfig: {}\n"
          "answer: {} {}\nstdout: {}",
          i, why, json(c.env.command).dump(-1, ' ', true, json::error_handler_t::replace),
          c.env.args, c.stdin_text, c.kubeconfig, c.answers.front().status, c.answers.front().body,
          out);
  }
  log_configure(LogLevel::info, false);
  INFO(first);
  CHECK(failures == 0);
}
