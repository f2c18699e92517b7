// istio's rules in iptables-nft's tables, from libnftables' JSON listing: which chains and jumps
// are istio's, the transaction that removes them (jumps by handle, then the chains), verify's
// lines. The listing is shaped as `nft -j list table ip nat` prints iptables-nft's rules.
#include "apply/xt_nft.h"

#include <catch2/catch.hpp>

#include "fakes/fake_nft.h"
#include "render/netlink_batch.h"

using namespace snare;

namespace {

std::string chain(const std::string& name, const std::string& hook = "") {
  std::string base = hook.empty() ? ""
                                  : R"(, "type": "nat", "hook": ")" + hook +
                                        R"(", "prio": -100, "policy": "accept")";
  return R"({"chain": {"family": "ip", "table": "nat", "name": ")" + name + R"(", "handle": 1)" +
         base + "}}";
}
std::string rule(const std::string& chain, int handle, const std::string& verdict) {
  return R"({"rule": {"family": "ip", "table": "nat", "chain": ")" + chain + R"(", "handle": )" +
         std::to_string(handle) + R"(, "expr": [{"counter": {"packets": 0, "bytes": 0}}, )" +
         verdict + "]}}";
}
std::string listing(const std::vector<std::string>& items) {
  std::string out =
      R"({"nftables": [{"metainfo": {"json_schema_version": 1}}, {"table": {"family": "ip", "name": "nat", "handle": 2}})";
  for (const auto& i : items) out += ", " + i;
  return out + "]}";
}

const std::string kIstio = listing({
    chain("PREROUTING", "prerouting"),
    chain("OUTPUT", "output"),
    chain("ISTIO_OUTPUT"),
    chain("ISTIO_REDIRECT"),
    chain("FOREIGN"),
    rule("OUTPUT", 9, R"({"jump": {"target": "ISTIO_OUTPUT"}})"),
    rule("OUTPUT", 10, R"({"xt": {"type": "target", "name": "LOG"}})"),
    rule("PREROUTING", 11, R"({"jump": {"target": "FOREIGN"}})"),
    rule("FOREIGN", 12, R"({"goto": {"target": "ISTIO_REDIRECT"}})"),
    rule("ISTIO_OUTPUT", 13, R"({"jump": {"target": "ISTIO_REDIRECT"}})"),
    rule("ISTIO_REDIRECT", 14, R"({"xt": {"type": "target", "name": "REDIRECT"}})"),
});

std::string removal_text(const XtIstio& xt) {
  std::string out;
  for (const std::string& l : netlink_batch_lines(xt.removal)) out += l + "\n";
  return out;
}

}  // namespace

TEST_CASE("iptables-nft: istio's jumps go by handle, then its chains, and nothing foreign") {
  XtIstio xt;
  REQUIRE(xt_istio_from_listing("ip", "nat", kIstio, xt).ok());
  CHECK(removal_text(xt) ==
        "delete rule ip nat OUTPUT handle 9\n"
        "delete rule ip nat FOREIGN handle 12\n"
        "flush chain ip nat ISTIO_OUTPUT\nflush chain ip nat ISTIO_REDIRECT\n"
        "delete chain ip nat ISTIO_OUTPUT\ndelete chain ip nat ISTIO_REDIRECT\n");
  REQUIRE(xt.found.size() == 1);
  CHECK(xt.found[0] == "ip nat (ISTIO_OUTPUT, ISTIO_REDIRECT)");
  CHECK_THAT(xt.drift, Catch::Contains("-rule ip nat OUTPUT handle 9 (jump ISTIO_OUTPUT)") &&
                           Catch::Contains("-chain ip nat ISTIO_REDIRECT"));
}

TEST_CASE("iptables-nft: a table without istio's chains gives nothing, a bad listing is an error") {
  XtIstio xt;
  REQUIRE(xt_istio_from_listing(
              "ip6", "nat",
              listing({chain("OUTPUT", "output"), rule("OUTPUT", 3, R"({"accept": null})")}), xt)
              .ok());
  CHECK(xt.empty());
  CHECK(xt.removal.empty());
  CHECK_FALSE(xt_istio_from_listing("ip", "nat", "not json", xt).ok());
}

TEST_CASE("iptables-nft: only the ip/ip6 nat, mangle and raw tables are read") {
  snare::testing::FakeNft nft;
  nft.ip_listings["ip nat"] = kIstio;
  nft.ip_listings["ip filter"] = kIstio;  // not a table istio writes
  XtIstio xt;
  REQUIRE(read_xt_istio(nft, xt).ok());
  REQUIRE(xt.found.size() == 1);
  CHECK_THAT(xt.drift, Catch::StartsWith("-rule ip nat OUTPUT handle 9"));
}

TEST_CASE("iptables-nft: iptables mode's verify lines say what the chains are and what to run") {
  snare::testing::FakeNft nft;
  nft.ip_listings["ip nat"] = kIstio;
  std::string diff, not_checked;
  REQUIRE(xt_istio_drift(nft, diff, not_checked).ok());
  CHECK(not_checked.empty());
  CHECK_THAT(diff, Catch::StartsWith("# iptables-nft: istio chains") &&
                       Catch::Contains("`snare clean` with these flags") &&
                       Catch::Contains("\n-rule ip nat OUTPUT handle 9 (jump ISTIO_OUTPUT)\n") &&
                       Catch::Contains("\n-chain ip nat ISTIO_REDIRECT\n"));
  diff.clear();
  nft.ip_listings["ip nat"] = listing({chain("OUTPUT", "output")});
  REQUIRE(xt_istio_drift(nft, diff, not_checked).ok());
  CHECK(diff.empty());
  nft.ip_listings["ip nat"] = "not json";
  CHECK_FALSE(xt_istio_drift(nft, diff, not_checked).ok());
}

TEST_CASE("iptables-nft: without libnftables iptables mode's verify says they were not checked") {
  snare::testing::FakeNft nft;
  nft.open_result = Status::Fail("cannot load libnftables (libnftables.so.1: no such file)");
  std::string diff, not_checked;
  REQUIRE(xt_istio_drift(nft, diff, not_checked).ok());  // no iptables-nft tables: nothing to load
  CHECK(not_checked.empty());
  nft.ip_listings["ip nat"] = kIstio;
  REQUIRE(xt_istio_drift(nft, diff, not_checked).ok());
  CHECK(diff.empty());
  CHECK_THAT(not_checked, Catch::StartsWith("cannot load libnftables"));
}
