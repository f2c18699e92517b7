// istio-cni's decisions: each of istio 1.30's plugin cases (plugin_dryrun_test.go), turned into
// flags by redirect_flags and into rules by the builder, must print istio's own golden for it
// (tests/golden/istio/cni-sidecar/); and the pods istio leaves alone are left alone.
#include "cni/redirect.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "builder/builder.h"
#include "cli/cli.h"
#include "fakes/config_of.h"

using namespace snare;
using namespace snare::cni;

namespace {

PodInfo sidecar(std::map<std::string, std::string> annotations) {
  PodInfo p;
  p.containers = {"test", "istio-proxy", "istio-validate"};
  p.annotations = std::move(annotations);
  p.annotations["sidecar.istio.io/status"] = "true";
  return p;
}

// The rule lines of a restore text: no comments, blank lines or `iptables-save` markers.
std::vector<std::string> rule_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (!l.empty() && l[0] != '#' && l != "iptables-save" && l != "ip6tables-save")
      out.push_back(l);
  return out;
}

std::string dry_run(const PodInfo& pod) {
  Redirect r;
  REQUIRE(redirect_flags(pod, r).ok());
  r.flags.push_back("--enable-ipv6=false");  // the pod namespace of istio's test has no IPv6
  Config c = snare::testing::config_of(r.flags, {}, "istio-cni");
  return render_dry_run(c, build_plan(c));
}

std::string golden(const std::string& name) {
  std::ifstream f(std::string(SNARE_SOURCE_DIR) + "/tests/golden/istio/cni-sidecar/" + name +
                  ".txt.golden");
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("istio's plugin cases give istio's goldens") {
  const std::string tproxy = "sidecar.istio.io/interceptionMode";
  PodInfo dns = sidecar({}), drop = sidecar({}), uid = sidecar({}),
          uid_tproxy = sidecar({{tproxy, "TPROXY"}});
  dns.proxy_env["ISTIO_META_DNS_CAPTURE"] = "true";
  drop.proxy_env["INVALID_DROP"] = "true";
  uid.proxy_uid = uid_tproxy.proxy_uid = 1000670000;
  uid.proxy_gid = uid_tproxy.proxy_gid = 1000670001;
  PodInfo zero = sidecar({});
  zero.proxy_uid = 0;
  const std::vector<std::pair<std::string, PodInfo>> cases = {
      {"basic", sidecar({})},
      {"include-exclude-ip",
       sidecar({{"traffic.sidecar.istio.io/includeOutboundIPRanges", "127.0.0.0/8"},
                {"traffic.sidecar.istio.io/excludeOutboundIPRanges", "10.0.0.0/8"}})},
      {"include-exclude-ports",
       sidecar({{"traffic.sidecar.istio.io/includeInboundPorts", "1111,2222"},
                {"traffic.sidecar.istio.io/excludeInboundPorts", "3333,4444"},
                {"traffic.sidecar.istio.io/excludeOutboundPorts", "5555,6666"}})},
      {"tproxy", sidecar({{tproxy, "TPROXY"}})},
      {"dns", dns},
      {"invalid-drop", drop},
      {"custom-uid", uid},
      {"basic", zero},  // custom-uid-zero: runAsUser 0 means 1337
      {"custom-uid-tproxy", uid_tproxy},
  };
  for (const auto& [name, pod] : cases) {
    INFO(name);
    CHECK(skip_reason(pod).empty());
    CHECK(rule_lines(dry_run(pod)) == rule_lines(golden(name)));
  }
}

TEST_CASE("the pods istio's plugin leaves alone, in its order") {
  PodInfo p = sidecar({});
  p.containers.insert("istio-init");
  CHECK_THAT(skip_reason(p), Catch::Contains("istio-init"));
  p = sidecar({});
  p.proxy_env["DISABLE_ENVOY"] = "true";
  CHECK_THAT(skip_reason(p), Catch::Contains("DISABLE_ENVOY"));
  p.proxy_env["DISABLE_ENVOY"] = "nonsense";  // not a boolean: ignored, as in istio
  CHECK(skip_reason(p).empty());
  p = sidecar({});
  p.containers = {"test"};
  CHECK_THAT(skip_reason(p), Catch::Contains("no istio-proxy"));
  p = sidecar({});
  p.proxy_type = "router";
  CHECK_THAT(skip_reason(p), Catch::Contains("router"));
  p = sidecar({{"sidecar.istio.io/inject", "false"}});
  CHECK_THAT(skip_reason(p), Catch::Contains("disabled"));
  p.labels["sidecar.istio.io/inject"] = "true";  // the label wins over the annotation
  CHECK(skip_reason(p).empty());
  p = sidecar({});
  p.annotations.erase("sidecar.istio.io/status");
  CHECK_THAT(skip_reason(p), Catch::Contains("sidecar.istio.io/status"));
}

TEST_CASE("an invalid annotation fails naming it, lists are trimmed like istio's text") {
  Redirect r;
  Status s = redirect_flags(sidecar({{"sidecar.istio.io/interceptionMode", "tproxy"}}), r);
  CHECK_THAT(s.error,
             Catch::Contains("sidecar.istio.io/interceptionMode") && Catch::Contains("tproxy"));
  s = redirect_flags(sidecar({{"traffic.sidecar.istio.io/excludeOutboundIPRanges", "10.0.0.0/33"}}),
                     r);
  CHECK_THAT(s.error, Catch::Contains("excludeOutboundIPRanges"));
  REQUIRE(redirect_flags(sidecar({{"traffic.sidecar.istio.io/excludeInboundPorts", " 80, 443"},
                                  {"istio.io/reroute-virtual-interfaces", "eth1"},
                                  {"traffic.sidecar.istio.io/kubevirtInterfaces", "eth9"}}),
                         r)
              .ok());
  auto after = [&](const std::string& flag) {
    for (size_t i = 0; i + 1 < r.flags.size(); ++i)
      if (r.flags[i] == flag) return r.flags[i + 1];
    return std::string("?");
  };
  CHECK(after("-d") == "80,443,15020,15021,15090");
  CHECK(after("-k") == "eth1");  // the new annotation wins over the deprecated one
  CHECK(after("-o") == "15020");
}
