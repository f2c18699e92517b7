// istio's ambient test (enablement selectors with k8s label-selector rules), the event body
// compared with istio's (Go's json.Marshal of CNIPluginAddEvent, written out by hand here from
// the field list: names, order, base64 masks, "" gateway) and the annotations' `snare ambient`
// flags.
#include "cni/ambient.h"

#include <catch2/catch.hpp>
#include <tuple>

using namespace snare;
using namespace snare::cni;
using nlohmann::ordered_json;

namespace {

bool ambient(const PodInfo& pod, const std::map<std::string, std::string>& ns,
             const std::string& selectors = kDefaultEnablementSelectors) {
  bool a = false;
  Status s = is_ambient_pod(pod, ns, ordered_json::parse(selectors), a);
  REQUIRE(s.ok());
  return a;
}

const std::map<std::string, std::string> kAmbientNs{{"istio.io/dataplane-mode", "ambient"}};

}  // namespace

TEST_CASE("helm's selectors: the pod's label, or the namespace's unless the pod says none") {
  PodInfo pod;
  CHECK_FALSE(ambient(pod, {}));
  CHECK(ambient(pod, kAmbientNs));
  pod.labels["istio.io/dataplane-mode"] = "ambient";
  CHECK(ambient(pod, {}));
  pod.labels["istio.io/dataplane-mode"] = "none";
  CHECK_FALSE(ambient(pod, kAmbientNs));
  pod.labels.clear();
  pod.annotations["sidecar.istio.io/status"] = "{}";  // a sidecar pod is never ambient
  CHECK_FALSE(ambient(pod, kAmbientNs));
}

TEST_CASE("label selector operators, empty selectors and no selectors") {
  PodInfo pod;
  pod.labels = {{"app", "web"}, {"tier", "front"}};
  CHECK(ambient(pod, {}, R"([{}])"));        // empty matches all
  CHECK_FALSE(ambient(pod, {}, R"([])"));    // no selector, no ambient pod
  CHECK_FALSE(ambient(pod, {}, R"(null)"));  // key absent
  // Each row: the namespace's labels, the selectors, whether the pod is ambient.
  const std::vector<std::tuple<std::map<std::string, std::string>, const char*, bool>> rows = {
      {{},
       R"([{"podSelector":{"matchExpressions":[{"key":"app","operator":"In","values":["x","web"]}]}}])",
       true},
      {{},
       R"([{"podSelector":{"matchExpressions":[{"key":"app","operator":"NotIn","values":["web"]}]}}])",
       false},
      {{},
       R"([{"podSelector":{"matchExpressions":[{"key":"x","operator":"NotIn","values":["web"]}]}}])",
       true},
      {{}, R"([{"podSelector":{"matchExpressions":[{"key":"tier","operator":"Exists"}]}}])", true},
      {{},
       R"([{"podSelector":{"matchExpressions":[{"key":"tier","operator":"DoesNotExist"}]}}])",
       false},
      // matchLabels and matchExpressions are ANDed; the pod and namespace selectors too.
      {{},
       R"([{"podSelector":{"matchLabels":{"app":"web"},"matchExpressions":[{"key":"y","operator":"Exists"}]}}])",
       false},
      {{},
       R"([{"podSelector":{"matchLabels":{"app":"web"}},"namespaceSelector":{"matchLabels":{"a":"b"}}}])",
       false},
      {{{"a", "b"}},
       R"([{"podSelector":{"matchLabels":{"app":"web"}},"namespaceSelector":{"matchLabels":{"a":"b"}}}])",
       true},
  };
  for (const auto& [ns, selectors, is_ambient] : rows) {
    INFO(selectors);
    CHECK(ambient(pod, ns, selectors) == is_ambient);
  }
}

TEST_CASE("selectors k8s refuses are errors, wrong JSON types are refused when read") {
  PodInfo pod;
  bool a = true;
  for (
      const char* bad :
      {R"([{"podSelector":{"matchExpressions":[{"key":"k","operator":"In","values":[]}]}}])",
       R"([{"podSelector":{"matchExpressions":[{"key":"k","operator":"Exists","values":["v"]}]}}])",
       R"([{"podSelector":{"matchExpressions":[{"key":"k","operator":"Near","values":["v"]}]}}])",
       R"([{},{"namespaceSelector":{"matchExpressions":[{"key":"k","operator":"In"}]}}])"}) {
    INFO(bad);
    CHECK_FALSE(is_ambient_pod(pod, {}, ordered_json::parse(bad), a).ok());
  }
  for (const char* bad : {R"({})", R"([1])", R"([{"podSelector":[]}])",
                          R"([{"podSelector":{"matchLabels":{"a":1}}}])",
                          R"([{"podSelector":{"matchExpressions":[{"values":"x"}]}}])"}) {
    INFO(bad);
    CHECK_THROWS_AS(check_selector_types(ordered_json::parse(bad)), std::invalid_argument);
  }
  CHECK_NOTHROW(check_selector_types(ordered_json::parse(kDefaultEnablementSelectors)));
}

TEST_CASE("the event body is istio's, field by field") {
  K8sArgs k{"web-0", "demo"};
  std::string body;
  auto prev = ordered_json::parse(
      R"({"cniVersion":"1.0.0","interfaces":[{"name":"eth0"}],"ips":[)"
      R"({"interface":2,"address":"10.244.1.7/24","gateway":"10.244.1.1"},)"
      R"({"address":"fd00:0:0::7/64"},{"address":"10.0.0.1/32","interface":0}]})");
  REQUIRE(add_event_body("/var/run/netns/cni-1", k, prev, body).ok());
  CHECK(
      body ==
      R"({"Netns":"/var/run/netns/cni-1","PodName":"web-0","PodNamespace":"demo","IPs":[)"
      R"({"Interface":2,"Address":{"IP":"10.244.1.7","Mask":"////AA=="},"Gateway":"10.244.1.1"},)"
      R"({"Interface":null,"Address":{"IP":"fd00::7","Mask":"//////////8AAAAAAAAAAA=="},"Gateway":""},)"
      R"({"Interface":0,"Address":{"IP":"10.0.0.1","Mask":"/////w=="},"Gateway":""}]})");
  REQUIRE(add_event_body("/n", k, nullptr, body).ok());  // no prevResult: IPs null
  CHECK(body == R"({"Netns":"/n","PodName":"web-0","PodNamespace":"demo","IPs":null})");
  REQUIRE(add_event_body("/n<&>", k, ordered_json::parse(R"({"ips":[]})"), body).ok());
  CHECK(body ==
        R"({"Netns":"/n\u003c\u0026\u003e","PodName":"web-0","PodNamespace":"demo","IPs":null})");
  // 0.2.0's ip4 (converted to 1.x, no interface); a /0 and an odd prefix.
  REQUIRE(
      add_event_body("/n", k, ordered_json::parse(R"({"ip4":{"ip":"10.1.2.3/20"}})"), body).ok());
  CHECK(
      body.find(
          R"("IPs":[{"Interface":null,"Address":{"IP":"10.1.2.3","Mask":"///wAA=="},"Gateway":""}])") !=
      std::string::npos);
  for (const char* bad :
       {R"({"ips":[{"address":"10.1.2.3"}]})", R"({"ips":[{"address":"10.1.2.3/33"}]})",
        R"({"ips":[{}]})", R"({"ips":[{"address":"x/8"}]})",
        R"({"ips":[{"address":"10.1.2.3/8","gateway":"nope"}]})",
        R"({"ips":[{"address":"10.1.2.3/8","interface":"eth0"}]})"}) {
    INFO(bad);
    CHECK_FALSE(add_event_body("/n", k, ordered_json::parse(bad), body).ok());
  }
}

TEST_CASE("the pod's annotations give snare ambient flags as istio's agent reads them") {
  PodInfo pod;
  CHECK(ambient_flags(pod).empty());
  pod.annotations = {{"ambient.istio.io/bypass-inbound-capture", "T"},
                     {"ambient.istio.io/dns-capture", "False"},
                     {"istio.io/reroute-virtual-interfaces", " tun0 ,, eth9 ,"}};
  CHECK(ambient_flags(pod) ==
        std::vector<std::string>{"--bypass-inbound-capture", "--pod-dns-capture=false",
                                 "--reroute-virtual-interfaces", "tun0,eth9"});
  pod.annotations = {{"ambient.istio.io/bypass-inbound-capture", "yes"},  // Go refuses: absent
                     {"ambient.istio.io/dns-capture", "1"},
                     {"istio.io/reroute-virtual-interfaces", " , "}};
  CHECK(ambient_flags(pod) == std::vector<std::string>{"--pod-dns-capture=true"});
}
