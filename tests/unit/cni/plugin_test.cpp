// One CNI invocation on fakes: the protocol (VERSION, errors as CNI error objects, DEL/CHECK),
// istio-cni's flow (excluded namespaces, skipped pods, retries of transient API failures only,
// istio's agent pod let through while the API is down) and what reaches the apply.
#include "cni/plugin.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "fakes/cni_env.h"
#include "fakes/plugin_rig.h"

using namespace snare;
using namespace snare::cni;

namespace {

const std::string kPath = "/api/v1/namespaces/default/pods/web";
const std::string kPrev =
    R"({"cniVersion":"1.0.0","interfaces":[{"name":"eth0"}],"ips":[{"address":"10.1.0.5/24"}]})";
const std::string kPod =
    R"({"kind":"Pod","metadata":{"annotations":{"sidecar.istio.io/status":"x"}},
  "spec":{"containers":[{"name":"app"},{"name":"istio-proxy","args":["proxy","sidecar"]}]}})";

// The sidecar path's rig: pod default/web with a sidecar, the netconf without ambient keys.
struct Rig : snare::cni::testing::PluginRig {
  Rig()
      : PluginRig({{kPath, {{200, kPod, ""}}}}, snare::cni::testing::web_add_env(),
                  snare::cni::testing::kNetconfHead, kPrev) {}
};

nlohmann::json parsed(const std::string& s) { return nlohmann::json::parse(s); }

}  // namespace

TEST_CASE("ADD applies the pod's flags in CNI_NETNS and prints prevResult unchanged") {
  Rig rig;
  std::string out;
  REQUIRE(rig.run(R"(,"native_nftables":true)", out) == 0);
  CHECK(parsed(out) == parsed(kPrev));
  CHECK(out.find(R"({"cniVersion":"1.0.0","interfaces")") == 0);  // key order kept
  REQUIRE(rig.applied.size() == 1);
  const auto& f = rig.applied[0];
  CHECK(std::find(f.begin(), f.end(), "/run/netns/p1") != f.end());
  CHECK(f.back() == "--native-nftables");
}

TEST_CASE("VERSION, DEL and CHECK, CHECK needs spec 0.4.0") {
  Rig rig;
  std::string out;
  rig.env.command = "VERSION";
  REQUIRE(rig.run("", out) == 0);
  CHECK(parsed(out)["supportedVersions"].size() == 7);
  for (const char* c : {"DEL", "CHECK"}) {
    rig.env.command = c;
    out.clear();
    CHECK(rig.run("", out) == 0);
    CHECK(out.empty());
  }
  CHECK(rig.requests.empty());
  rig.env.command = "CHECK";
  CHECK(run_plugin(rig.env, R"({"cniVersion":"0.3.1","name":"k8s"})", rig.deps, out) == 1);
  CHECK(parsed(out)["code"] == 1);
}

TEST_CASE("protocol errors are CNI error objects") {
  Rig rig;
  std::string out;
  CHECK(run_plugin(rig.env, "{", rig.deps, out) == 1);
  CHECK(parsed(out)["code"] == 6);
  CHECK(run_plugin(rig.env, R"({"cniVersion":"1.0.0"})", rig.deps, out) == 1);
  CHECK(parsed(out)["code"] == 7);
  CHECK(run_plugin(rig.env, R"({"cniVersion":"9.9.9","name":"k8s"})", rig.deps, out) == 1);
  CHECK(parsed(out)["code"] == 1);
  rig.env.netns.clear();
  CHECK(rig.run("", out) == 1);
  CHECK(parsed(out)["code"] == 4);
  CHECK(parsed(out)["msg"] == "required env variables [CNI_NETNS] missing");
  rig.env.command = "FROB";
  CHECK(rig.run("", out) == 1);
  CHECK(parsed(out)["code"] == 4);
}

TEST_CASE("transient API failures are retried, refusals are not") {
  Rig rig;
  rig.answers[kPath] = {{0, "", "connection refused"}, {503, "", ""}, {200, kPod, ""}};
  std::string out;
  REQUIRE(rig.run("", out) == 0);
  CHECK(rig.requests.size() == 3);
  CHECK(rig.sleeps == 2);
  Rig refused;
  refused.answers[kPath] = {{401, R"({"kind":"Status","message":"Unauthorized"})", ""}};
  CHECK(refused.run("", out) == 1);
  CHECK(refused.requests.size() == 1);
  CHECK_THAT(parsed(out)["msg"].get<std::string>(), Catch::Contains("401: Unauthorized"));
  CHECK(refused.applied.empty());
  Rig down;
  down.answers[kPath] = {{0, "", "connection refused"}};
  down.deps.attempts = 3;
  CHECK(down.run("", out) == 1);
  CHECK(down.requests.size() == 3);
  CHECK_THAT(parsed(out)["msg"].get<std::string>(), Catch::Contains("after 3 attempts"));
}

TEST_CASE("excluded namespaces, istio's agent pod, skipped pods and non-pods pass through") {
  Rig rig;
  std::string out;
  rig.env.args = "K8S_POD_NAMESPACE=kube-system;K8S_POD_NAME=web";
  REQUIRE(rig.run("", out) == 0);
  CHECK(rig.requests.empty());
  rig.env.args = "IgnoreUnknown=1;K8S_POD_NAMESPACE=istio-system;K8S_POD_NAME=istio-cni-node-x";
  rig.answers.clear();
  rig.answers["/api/v1/namespaces/istio-system/pods/istio-cni-node-x"] = {{0, "", "refused"}};
  REQUIRE(rig.run("", out) == 0);
  CHECK(rig.requests.size() == 1);  // let through at the first failure, as istio does
  rig.env.args = "";
  REQUIRE(rig.run("", out) == 0);
  CHECK(rig.applied.empty());
  rig.env.args = "K8S_POD_NAMESPACE=default;K8S_POD_NAME=web;Foo=bar";
  CHECK(rig.run("", out) == 1);
  CHECK_THAT(parsed(out)["msg"].get<std::string>(), Catch::Contains("unknown args"));
}

TEST_CASE("a failed apply is a CNI error naming the pod and the reason") {
  Rig rig;
  rig.apply_rc = 1;
  std::string out;
  CHECK(rig.run("", out) == 1);
  CHECK(parsed(out)["code"] == 999);
  CHECK(parsed(out)["msg"] == "pod default/web: commit nat (ipv4): Invalid argument");
}

TEST_CASE("a silent API server: the ADD's error comes within its budget, tries get the time left") {
  using std::chrono::milliseconds;
  Rig rig;
  rig.answers[kPath] = {{0, "", "https://x: Operation timed out after 5000 milliseconds"}};
  std::string out;
  CHECK(rig.run("", out) == 1);
  // 60 s in all by default, however the tries and pauses fall: never 30 x (5 s + 1 s).
  CHECK(rig.clock - std::chrono::steady_clock::time_point{} <= milliseconds(60000));
  CHECK(rig.clock - std::chrono::steady_clock::time_point{} >= milliseconds(59000));
  CHECK_THAT(parsed(out)["msg"].get<std::string>(), Catch::Contains("within the ADD's 60 s"));
  for (milliseconds t : rig.timeouts) CHECK(t <= milliseconds(5000));
  Rig quick;
  quick.answers = rig.answers;
  CHECK(quick.run(R"(,"snare_add_timeout_seconds":3)", out) == 1);
  CHECK(quick.clock - std::chrono::steady_clock::time_point{} <= milliseconds(3000));
  CHECK(quick.requests.size() == 1);  // 3 s: one 3 s try, then nothing left
  CHECK(quick.timeouts == std::vector<milliseconds>{milliseconds(3000)});
  Rig eight;  // 5 s, a 1 s pause, then the 2 s left
  eight.answers = rig.answers;
  CHECK(eight.run(R"(,"snare_add_timeout_seconds":8)", out) == 1);
  CHECK(eight.timeouts == std::vector<milliseconds>{milliseconds(5000), milliseconds(2000)});
}

TEST_CASE("permanent transport errors (the CA, the URL) are not retried") {
  Rig rig;
  rig.answers[kPath] = {{0, "",
                         "https://x: SSL certificate problem: unable to get local issuer "
                         "certificate",
                         true}};
  std::string out;
  CHECK(rig.run("", out) == 1);
  CHECK(rig.requests.size() == 1);
  CHECK(rig.sleeps == 0);
  CHECK_THAT(parsed(out)["msg"].get<std::string>(), Catch::Contains("not retried"));
  CHECK_THAT(parsed(out)["msg"].get<std::string>(), Catch::Contains("local issuer"));
}

TEST_CASE("snare_add_timeout_seconds must be a number of seconds above 0 and at most 100") {
  Rig rig;
  std::string out;
  for (const char* bad :
       {R"(,"snare_add_timeout_seconds":"3")", R"(,"snare_add_timeout_seconds":0)",
        R"(,"snare_add_timeout_seconds":101)"}) {
    CHECK(rig.run(bad, out) == 1);
    CHECK_THAT(parsed(out)["msg"].get<std::string>(), Catch::Contains("snare_add_timeout_seconds"));
  }
  CHECK(rig.requests.empty());
}

TEST_CASE("a kind that is not a string and bytes that are not UTF-8 give error objects") {
  Rig rig;
  rig.answers[kPath] = {{200, R"({"kind":7})", ""}};
  std::string out;
  CHECK(rig.run("", out) == 1);
  CHECK_THAT(parsed(out)["msg"].get<std::string>(), Catch::Contains("a 7, not a Pod"));
  rig.env.command = "ADD\xff";
  CHECK(rig.run("", out) == 1);
  CHECK(parsed(out)["code"] == 4);
  CHECK_THAT(parsed(out)["msg"].get<std::string>(), Catch::Contains("ADD\xef\xbf\xbd"));
  Rig forbidden;  // a 403 page cut inside a two-byte character
  forbidden.answers[kPath] = {{403, std::string(199, 'x') + "\xc3\xa9", ""}};
  CHECK(forbidden.run("", out) == 1);
  CHECK_THAT(parsed(out)["msg"].get<std::string>(), Catch::Contains("403"));
}
