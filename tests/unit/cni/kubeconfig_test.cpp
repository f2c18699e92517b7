// The plugin's kubeconfig: what istio-cni writes is read; a broken one is named precisely.
#include "cni/kubeconfig.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

using namespace snare;
using namespace snare::cni;

namespace {

// What istio-cni writes (tests/cni/istio-cni-kubeconfig.yaml, from which the root tests write
// theirs too), with `from` replaced by `to` where asked.
std::string kubeconfig(const std::string& from = "", const std::string& to = "") {
  std::ifstream f(std::string(SNARE_SOURCE_DIR) + "/tests/cni/istio-cni-kubeconfig.yaml");
  std::stringstream text;
  text << f.rdbuf();
  std::string s = text.str();
  REQUIRE(s.find("current-context: istio-cni-context") != std::string::npos);
  if (!from.empty()) {
    const auto at = s.find(from);
    REQUIRE(at != std::string::npos);
    s.replace(at, from.size(), to);
  }
  return s;
}

// The error parse_kubeconfig gives for istio-cni's kubeconfig with `from` replaced by `to`.
std::string error_of_edited(const std::string& from, const std::string& to) {
  KubeConfig k;
  Status s = parse_kubeconfig(kubeconfig(from, to), "/r/kc", k);
  REQUIRE(!s.ok());
  return s.error;
}

}  // namespace

TEST_CASE("kubeconfig: istio-cni's is read", "[cni]") {
  KubeConfig k;
  REQUIRE(parse_kubeconfig(kubeconfig(), "/r/kc", k).ok());
  CHECK(k.server == "https://10.96.0.1:443");
  CHECK(k.ca_pem == "hello");
  CHECK(k.token == "abc");
}

TEST_CASE("kubeconfig: an unknown current-context is named as such, not as a missing server",
          "[cni]") {
  const std::string error =
      error_of_edited("current-context: istio-cni-context", "current-context: nope");
  CHECK_THAT(error, Catch::Contains("current-context \"nope\" is not among the kubeconfig's "
                                    "contexts"));
  CHECK_THAT(error, !Catch::Contains("no server"));
}

TEST_CASE("kubeconfig: a context naming an unknown cluster says so", "[cni]") {
  CHECK_THAT(error_of_edited("cluster: local", "cluster: other"),
             Catch::Contains("names cluster \"other\", which is not among"));
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
  CHECK_THAT(error_of_edited("aGVsbG8=", "aGV\xffsbG8="),
             Catch::Contains("certificate-authority-data is not base64"));
}
