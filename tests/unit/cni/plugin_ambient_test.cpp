// The plugin's ambient path on fakes, decision by decision as istio's plugin takes them: the
// excluded namespaces first, ambient_enabled, the pod and namespace lookup with its retries, the
// enablement selectors, a sidecar pod kept on the sidecar path, and the hand-off to the node
// agent (one POST; anything but 200 a CNI error and nothing applied).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cni/plugin.h"
#include "fakes/plugin_rig.h"

using namespace snare;
using namespace snare::cni;

namespace {

const std::string kPodPath = "/api/v1/namespaces/demo/pods/web-0";
const std::string kNsPath = "/api/v1/namespaces/demo";
const std::string kPrev =
    R"({"cniVersion":"1.0.0","interfaces":[{"name":"eth0"}],"ips":[{"interface":0,"address":"10.1.0.5/24","gateway":"10.1.0.1"}]})";
const std::string kPlainPod = R"({"kind":"Pod","metadata":{"name":"web-0"}})";
const std::string kSidecarPod =
    R"({"kind":"Pod","metadata":{"annotations":{"sidecar.istio.io/status":"x"}},
  "spec":{"containers":[{"name":"app"},{"name":"istio-proxy","args":["proxy","sidecar"]}]}})";
const std::string kAmbientNs =
    R"({"kind":"Namespace","metadata":{"name":"demo","labels":{"istio.io/dataplane-mode":"ambient"}}})";
const std::string kHelmSelectors =
    R"([{"podSelector":{"matchLabels":{"istio.io/dataplane-mode":"ambient"}}},)"
    R"({"podSelector":{"matchExpressions":[{"key":"istio.io/dataplane-mode","operator":"NotIn","values":["none"]}]},)"
    R"("namespaceSelector":{"matchLabels":{"istio.io/dataplane-mode":"ambient"}}}])";

// The ambient path's rig: pod demo/web-0 without a sidecar in a namespace labelled ambient,
// ambient_enabled with helm's selectors.
struct Rig : snare::cni::testing::PluginRig {
  Rig()
      : PluginRig(
            {{kPodPath, {{200, kPlainPod, ""}}}, {kNsPath, {{200, kAmbientNs, ""}}}},
            CniEnv{"ADD", "c1", "/var/run/netns/cni-1", "eth0",
                   "IgnoreUnknown=1;K8S_POD_NAMESPACE=demo;K8S_POD_NAME=web-0", "/opt/cni/bin"},
            snare::cni::testing::kNetconfHead +
                R"(,"ambient_enabled":true,"enablement_selectors":)" + kHelmSelectors,
            kPrev) {}
};

nlohmann::json parsed(const std::string& s) { return nlohmann::json::parse(s); }

}  // namespace

TEST_CASE("an ambient pod is posted to the agent's socket with istio's body, stdout prevResult") {
  Rig rig;
  std::string out;
  REQUIRE(rig.run("", out) == 0);
  CHECK(parsed(out) == parsed(kPrev));
  CHECK(rig.requests == std::vector<std::string>{kPodPath, kNsPath});
  CHECK(rig.applied.empty());
  REQUIRE(rig.posts.size() == 1);
  CHECK(rig.posts[0].socket == "/r/pluginevent.sock");
  CHECK(rig.posts[0].path == "/cmdadd");
  CHECK(rig.posts[0].timeout == std::chrono::seconds(5));
  CHECK(rig.posts[0].body ==
        R"({"Netns":"/var/run/netns/cni-1","PodName":"web-0","PodNamespace":"demo","IPs":[)"
        R"({"Interface":0,"Address":{"IP":"10.1.0.5","Mask":"////AA=="},"Gateway":"10.1.0.1"}]})");
}

TEST_CASE("the agent answering non-200 or absent: a CNI error, exit 1, nothing applied") {
  Rig rig;
  std::string out;
  rig.agent_answer = {500, "no ztunnel connection\n", ""};
  REQUIRE(rig.run("", out) == 1);
  CHECK(parsed(out)["code"] == 999);
  CHECK(parsed(out)["msg"] ==
        "istio-cni cmdAdd failed to contact node Istio CNI agent: unable to push CNI event "
        "(status code 500): no ztunnel connection\n");
  rig.agent_answer = {0, "", "Couldn't connect to server"};
  REQUIRE(rig.run("", out) == 1);
  CHECK_THAT(parsed(out)["msg"].get<std::string>(),
             Catch::StartsWith("istio-cni cmdAdd failed to contact node Istio CNI agent: failed "
                               "to send event request: Couldn't connect"));
  CHECK(rig.posts.size() == 2);  // one each, no retry
  CHECK(rig.applied.empty());
  CHECK(rig.sleeps == 0);
}

TEST_CASE("the excluded namespace comes first, ambient_enabled off never asks the agent") {
  Rig rig;
  std::string out;
  rig.env.args = "K8S_POD_NAMESPACE=kube-system;K8S_POD_NAME=web-0";
  REQUIRE(rig.run("", out) == 0);
  CHECK(rig.requests.empty());
  CHECK(rig.posts.empty());
  rig.env.args = "K8S_POD_NAMESPACE=demo;K8S_POD_NAME=web-0";
  REQUIRE(rig.run(R"(,"ambient_enabled":false)", out) == 0);
  CHECK(rig.requests == std::vector<std::string>{kPodPath});  // the sidecar path's GET only
  CHECK(rig.posts.empty());
  CHECK(rig.applied.empty());  // no sidecar: left alone
}

TEST_CASE("a sidecar pod, or a pod no selector matches, keeps the sidecar path") {
  Rig rig;
  std::string out;
  rig.answers[kPodPath] = {{200, kSidecarPod, ""}};
  REQUIRE(rig.run("", out) == 0);
  CHECK(rig.posts.empty());
  CHECK(rig.applied.size() == 1);
  rig.answers[kPodPath] = {{200, kPlainPod, ""}};
  rig.answers[kNsPath] = {{200, R"({"metadata":{"labels":{"istio.io/dataplane-mode":"x"}}})", ""}};
  REQUIRE(rig.run("", out) == 0);
  CHECK(rig.posts.empty());
  CHECK(rig.applied.size() == 1);
  // The pod's own label with an unlabelled namespace matches the first selector.
  rig.answers[kPodPath] = {
      {200, R"({"metadata":{"labels":{"istio.io/dataplane-mode":"ambient"}}})", ""}};
  rig.answers[kNsPath] = {{200, R"({"metadata":{}})", ""}};
  REQUIRE(rig.run("", out) == 0);
  CHECK(rig.posts.size() == 1);
}

TEST_CASE(
    "a failed lookup: 2 tries then the sidecar path, 31 tries and an error with the retry key") {
  Rig rig;
  std::string out;
  rig.answers[kNsPath] = {{503, "", ""}};
  REQUIRE(rig.run("", out) == 0);  // then the sidecar path: a plain pod is left alone
  CHECK(std::count(rig.requests.begin(), rig.requests.end(), kNsPath) == 2);
  CHECK(rig.posts.empty());
  rig.requests.clear();
  REQUIRE(rig.run(R"(,"enable_ambient_detection_retry":true)", out) == 1);
  CHECK(std::count(rig.requests.begin(), rig.requests.end(), kNsPath) == 31);
  CHECK_THAT(parsed(out)["msg"].get<std::string>(), Catch::Contains("GET namespace demo"));
  CHECK(rig.posts.empty());
  // A refusal is not asked again, and names the RBAC rule refused.
  rig.requests.clear();
  rig.answers[kNsPath] = {{403, R"({"message":"namespaces \"demo\" is forbidden"})", ""}};
  REQUIRE(rig.run(R"(,"enable_ambient_detection_retry":true)", out) == 1);
  CHECK(std::count(rig.requests.begin(), rig.requests.end(), kNsPath) == 1);
  CHECK_THAT(parsed(out)["msg"].get<std::string>(), Catch::Contains("RBAC: get namespaces"));
}

TEST_CASE("an invalid selector fails the ADD only with the retry key, as in istio") {
  Rig rig;
  std::string out;
  const std::string bad =
      R"(,"enablement_selectors":[{"podSelector":{"matchExpressions":[{"key":"k","operator":"In"}]}}])";
  REQUIRE(rig.run(bad, out) == 0);
  CHECK(rig.posts.empty());
  REQUIRE(rig.run(bad + R"(,"enable_ambient_detection_retry":true)", out) == 1);
  CHECK_THAT(parsed(out)["msg"].get<std::string>(), Catch::Contains("values set can't be empty"));
  REQUIRE(rig.run(R"(,"enablement_selectors":{})", out) == 1);  // a JSON type Go refuses
  CHECK_THAT(parsed(out)["msg"].get<std::string>(), Catch::Contains("enablement_selectors"));
}
