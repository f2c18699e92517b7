// The kubeconfig's server URL: what istio-cni and kubeadm write is split right; what no client
// could use is refused with the URL named.
#include "cni/server_url.h"

#include <catch2/catch.hpp>

using namespace snare;
using namespace snare::cni;

TEST_CASE("server url: istio-cni's service address", "[cni]") {
  ServerUrl u;
  REQUIRE(parse_server_url("https://10.96.0.1:443", u).ok());
  CHECK(u.tls);
  CHECK(u.host == "10.96.0.1");
  CHECK(u.port == "443");
  CHECK(u.authority == "10.96.0.1:443");
  CHECK(u.host_is_ip);
  CHECK(u.prefix.empty());
}

TEST_CASE("server url: names, default ports, IPv6 and a path prefix", "[cni]") {
  ServerUrl u;
  REQUIRE(parse_server_url("HTTPS://kubernetes.default.svc/", u).ok());
  CHECK((u.host == "kubernetes.default.svc" && u.port == "443" && !u.host_is_ip));
  CHECK(u.prefix.empty());
  REQUIRE(parse_server_url("http://api:8080/k8s/clusters/c-1/", u).ok());
  CHECK((!u.tls && u.host == "api" && u.port == "8080" && u.prefix == "/k8s/clusters/c-1"));
  REQUIRE(parse_server_url("https://[fd00::1]:6443", u).ok());
  CHECK((u.host == "fd00::1" && u.port == "6443" && u.authority == "[fd00::1]:6443"));
  CHECK(u.host_is_ip);
  REQUIRE(parse_server_url("http://[::1]", u).ok());
  CHECK((u.host == "::1" && u.port == "80"));
}

TEST_CASE("server url: what cannot be used is refused, naming the URL", "[cni]") {
  ServerUrl u;
  for (const char* bad :
       {"ftp://127.0.0.1:1", "127.0.0.1:443", "https://", "https://:443", "https://h:0",
        "https://h:65536", "https://h:44x", "https://h:", "https://[fd00::1", "https://[nope]:1",
        "https://[::1]x", "https://u:p@h", "https://h/?q", "https://h#f", ""}) {
    const Status s = parse_server_url(bad, u);
    INFO(bad);
    CHECK(!s.ok());
    CHECK(s.error.find(std::string("\"") + bad + "\"") != std::string::npos);
  }
}
