// nftables detection: the description a refusal shows. Real tables: tests/root/nft_detect.sh.
#include "nft_detect.h"

#include <catch2/catch.hpp>

TEST_CASE("nft tables are described with their owner and size", "[nft]") {
  std::vector<snare::NftTableInfo> tables{{"ip", "nat", 4, 1, true}, {"inet", "x", 0, 0, false}};
  CHECK(snare::describe_nft_tables(tables) ==
        "table ip nat (iptables-nft, 4 chains, 1 rule), table inet x (0 chains, 0 rules)");
  CHECK(snare::describe_nft_tables({}).empty());
}

TEST_CASE("listing nft tables of the current namespace works or says why", "[nft]") {
  bool has = false;
  std::string what;
  auto s = snare::detect_nftables(has, what);
  // Without CAP_NET_ADMIN the kernel still answers a dump; anything else is reported in words.
  if (s.ok()) {
    CHECK(has == !what.empty());
  } else {
    CHECK(s.error.rfind("nftables check: ", 0) == 0);
  }
}
