// nftables detection: the description a refusal shows. Listing real tables is tested against the
// kernel by tests/root/nft_detect.sh.
#include "kernel/nft_detect.h"

#include <catch2/catch.hpp>

TEST_CASE("nft tables are described with their owner and size", "[nft]") {
  std::vector<snare::NftTableInfo> tables{{"ip", "nat", 4, 1, true}, {"inet", "x", 0, 0, false}};
  CHECK(snare::describe_nft_tables(tables) ==
        "table ip nat (iptables-nft, 4 chains, 1 rule), table inet x (0 chains, 0 rules)");
  CHECK(snare::describe_nft_tables({}).empty());
}
