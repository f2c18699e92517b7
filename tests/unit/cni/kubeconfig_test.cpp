// The plugin's kubeconfig: what istio-cni writes is read; a broken one is named precisely.
#include "cni/kubeconfig.h"

#include <catch2/catch.hpp>

using namespace snare;
using namespace snare::cni;

namespace {

std::string kubeconfig(const std::string& current_context) {
  return R"(apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: aGVsbG8=
    server: https://10.96.0.1:443
  name: local
contexts:
- context:
    cluster: local
    user: istio-cni
  name: istio-cni-context
current-context: )" +
         current_context + R"(
users:
- name: istio-cni
  user:
    token: abc
)";
}

}  // namespace

TEST_CASE("kubeconfig: istio-cni's is read", "[cni]") {
  KubeConfig k;
  REQUIRE(parse_kubeconfig(kubeconfig("istio-cni-context"), "/r/kc", k).ok());
  CHECK(k.server == "https://10.96.0.1:443");
  CHECK(k.ca_pem == "hello");
  CHECK(k.token == "abc");
}

TEST_CASE("kubeconfig: an unknown current-context is named as such, not as a missing server",
          "[cni]") {
  KubeConfig k;
  Status s = parse_kubeconfig(kubeconfig("nope"), "/r/kc", k);
  REQUIRE(!s.ok());
  CHECK_THAT(s.error, Catch::Contains("current-context \"nope\" is not among the kubeconfig's "
                                      "contexts"));
  CHECK_THAT(s.error, !Catch::Contains("no server"));
}

TEST_CASE("kubeconfig: a context naming an unknown cluster says so", "[cni]") {
  std::string text = kubeconfig("istio-cni-context");
  text.replace(text.find("cluster: local"), 14, "cluster: other");
  KubeConfig k;
  Status s = parse_kubeconfig(text, "/r/kc", k);
  REQUIRE(!s.ok());
  CHECK_THAT(s.error, Catch::Contains("names cluster \"other\", which is not among"));
}

TEST_CASE("kubeconfig: binary bytes are an error, not a crash", "[cni]") {
  KubeConfig k;
  CHECK(!parse_kubeconfig(std::string("\x7f"
                                      "ELF\x02\x01\x01\0\0\xff\xfe: [",
                                      15),
                          "/r/kc", k)
             .ok());
}

TEST_CASE("kubeconfig: *-data with bytes outside base64 is an error, not a crash", "[cni]") {
  std::string text = kubeconfig("istio-cni-context");
  text.replace(text.find("aGVsbG8="), 8, "aGV\xffsbG8=");
  KubeConfig k;
  Status s = parse_kubeconfig(text, "/r/kc", k);
  REQUIRE(!s.ok());
  CHECK_THAT(s.error, Catch::Contains("certificate-authority-data is not base64"));
}
