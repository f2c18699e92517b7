// The normal form both sides of an nftables comparison are brought to (the statement JSON below is
// what nft lists, written out by hand).
#include "ext/nft_kernel_form.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace snare;
using nlohmann::json;

TEST_CASE("normal form: nft's implied l4proto goes, numbers name protocols, counters are zero") {
  json tcp_port = json::parse(R"([
    {"match": {"op": "==", "left": {"meta": {"key": "l4proto"}}, "right": 6}},
    {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 53}},
    {"counter": {"packets": 7, "bytes": 420}}, {"return": null}])");
  normalize_nft_exprs(tcp_port);
  CHECK(tcp_port == json::parse(R"([
    {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 53}},
    {"counter": {"packets": 0, "bytes": 0}}, {"return": null}])"));
  // Not implied by an ip payload: it stays (named).
  json mark = json::parse(R"([
    {"match": {"op": "==", "left": {"meta": {"key": "l4proto"}}, "right": 6}},
    {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "daddr"}}, "right": "10.0.0.1"}},
    {"match": {"op": "in", "left": {"ct": {"key": "state"}}, "right": ["related", "established"]}}])");
  normalize_nft_exprs(mark);
  CHECK(mark[0]["match"]["right"] == "tcp");
  CHECK(mark[2]["match"]["right"] == json::parse(R"(["established", "related"])"));
}
