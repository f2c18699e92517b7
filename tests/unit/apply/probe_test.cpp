// `snare ambient-host probe add|del` on fakes, both backends: add takes the new UID of a member
// that is there, del removes only a member carrying its UID (and names the UID that holds it
// otherwise), each family goes to its set, and a missing set is a failure naming what creates it.
#include "apply/probe.h"

#include <catch2/catch.hpp>

#include "fakes/fake_ipsets.h"
#include "fakes/fake_nft.h"

using namespace snare;
using snare::testing::FakeIpsets;
using snare::testing::FakeNft;

namespace {

ProbeRequest req(bool add, const char* ip, const char* uid) {
  ProbeRequest r;
  r.add = add;
  r.ip = parse_ip(ip).value;
  r.pod_uid = uid;
  return r;
}

// istio-ambient-nat with both sets, -v4 holding 10.0.0.7 for pod-a, as libnftables lists it.
const char* kListing = R"({"nftables": [
  {"table": {"family": "inet", "name": "istio-ambient-nat", "handle": 1}},
  {"set": {"family": "inet", "name": "istio-inpod-probes-v4", "table": "istio-ambient-nat",
           "type": "ipv4_addr", "handle": 1, "comment": "UUID of the pods that are part of ambient mesh",
           "elem": [{"elem": {"val": "10.0.0.7", "comment": "pod-a"}}]}},
  {"set": {"family": "inet", "name": "istio-inpod-probes-v6", "table": "istio-ambient-nat",
           "type": "ipv6_addr", "handle": 2, "comment": "UUID of the pods that are part of ambient mesh"}}]})";

}  // namespace

TEST_CASE("probe, ipsets: add, a reused IP's new UID, del only with the UID that holds it") {
  FakeIpsets ipsets;
  ipsets.put("istio-inpod-probes-v4");
  ipsets.put("istio-inpod-probes-v6", "hash:ip", "inet6");
  std::string said;
  REQUIRE(probe_ipsets(req(true, "10.0.0.7", "pod-a"), ipsets, said).ok());
  CHECK(ipsets.member("istio-inpod-probes-v4", "10.0.0.7")->comment == "pod-a");
  REQUIRE(probe_ipsets(req(true, "10.0.0.7", "pod-b"), ipsets, said).ok());
  CHECK(ipsets.member("istio-inpod-probes-v4", "10.0.0.7")->comment == "pod-b");
  CHECK_THAT(said, Catch::Contains("it was pod pod-a's"));
  ipsets.calls.clear();
  REQUIRE(probe_ipsets(req(false, "10.0.0.7", "pod-a"), ipsets, said).ok());
  CHECK(ipsets.calls.empty());
  CHECK_THAT(said, Catch::Contains("belongs to pod pod-b, not pod-a"));
  REQUIRE(probe_ipsets(req(false, "10.0.0.7", "pod-b"), ipsets, said).ok());
  CHECK(ipsets.member("istio-inpod-probes-v4", "10.0.0.7") == nullptr);
  REQUIRE(probe_ipsets(req(false, "10.0.0.7", "pod-b"), ipsets, said).ok());
  CHECK_THAT(said, Catch::Contains("not in istio-inpod-probes-v4"));
  REQUIRE(probe_ipsets(req(true, "fd00::7", "pod-c"), ipsets, said).ok());
  CHECK(ipsets.member("istio-inpod-probes-v6", "fd00::7")->comment == "pod-c");
  ipsets.calls.clear();
  REQUIRE(probe_ipsets(req(true, "fd00::7", "pod-c"), ipsets, said).ok());
  CHECK(ipsets.calls.empty());  // already there with this UID: nothing to write
}

TEST_CASE("probe, ipsets: a missing set fails, naming the command that creates it") {
  FakeIpsets ipsets;
  std::string said;
  Status s = probe_ipsets(req(true, "fd00::7", "pod-a"), ipsets, said);
  REQUIRE(!s.ok());
  CHECK_THAT(s.error, Catch::Contains("ipset istio-inpod-probes-v6 does not exist"));
  CHECK_THAT(s.error, Catch::Contains("`snare ambient-host`"));
  CHECK(ipsets.calls.empty());
}

TEST_CASE("probe, nftables: a reused IP's new UID replaces the element in one transaction") {
  FakeNft nft;
  nft.set_ruleset(kListing);
  std::string said;
  REQUIRE(probe_nft(req(true, "10.0.0.7", "pod-b"), nft, said).ok());
  REQUIRE(nft.runs.size() == 1);
  CHECK(
      nft.runs[0] ==
      "delete element inet istio-ambient-nat istio-inpod-probes-v4 { 10.0.0.7 }\n"
      "add element inet istio-ambient-nat istio-inpod-probes-v4 { 10.0.0.7 comment \"pod-b\" }\n");
  REQUIRE(probe_nft(req(true, "10.0.0.7", "pod-a"), nft, said).ok());
  CHECK(nft.runs.size() == 1);  // there with this UID already
  REQUIRE(probe_nft(req(true, "fd00::7", "pod-c"), nft, said).ok());
  CHECK(nft.runs.back() ==
        "add element inet istio-ambient-nat istio-inpod-probes-v6 { fd00::7 comment \"pod-c\" }\n");
}

TEST_CASE("probe, nftables: del only with the UID that holds the element") {
  FakeNft nft;
  nft.set_ruleset(kListing);
  std::string said;
  REQUIRE(probe_nft(req(false, "10.0.0.7", "pod-b"), nft, said).ok());
  CHECK(nft.runs.empty());
  CHECK_THAT(said, Catch::Contains("belongs to pod pod-a, not pod-b"));
  REQUIRE(probe_nft(req(false, "10.0.0.7", "pod-a"), nft, said).ok());
  REQUIRE(nft.runs.size() == 1);
  CHECK(nft.runs[0] ==
        "delete element inet istio-ambient-nat istio-inpod-probes-v4 { 10.0.0.7 }\n");
}

TEST_CASE("probe, nftables: no table or no set fails, nothing run") {
  FakeNft nft;
  std::string said;
  Status s = probe_nft(req(true, "10.0.0.7", "pod-a"), nft, said);
  REQUIRE(!s.ok());
  CHECK_THAT(s.error, Catch::Contains("istio-inpod-probes-v4 does not exist"));
  CHECK_THAT(s.error, Catch::Contains("--native-nftables"));
  CHECK(nft.runs.empty());
}
