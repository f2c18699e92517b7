// Value checks, with the expected values taken from the kernel's and Go's documented rules.
#include "validate.h"

#include <catch2/catch.hpp>

using namespace snare;

TEST_CASE("durations follow Go's time.ParseDuration") {
  std::chrono::milliseconds ms{};
  CHECK(parse_duration("5s", ms).empty());
  CHECK(ms.count() == 5000);
  CHECK(parse_duration("500ms", ms).empty());
  CHECK(ms.count() == 500);
  CHECK(parse_duration("1m30s", ms).empty());
  CHECK(ms.count() == 90000);
  CHECK(parse_duration("1.5h", ms).empty());
  CHECK(ms.count() == 5400000);
  CHECK(parse_duration("0", ms).empty());
  CHECK_FALSE(parse_duration("5", ms).empty());
  CHECK_FALSE(parse_duration("5 s", ms).empty());
  CHECK_FALSE(parse_duration("s", ms).empty());
  CHECK_FALSE(parse_duration("", ms).empty());
}

TEST_CASE("ports and ranges") {
  CHECK(check_port("1").empty());
  CHECK(check_port("65535").empty());
  CHECK_FALSE(check_port("0").empty());
  CHECK_FALSE(check_port("-1").empty());
  CHECK_FALSE(check_port("1:2").empty());
  CHECK(check_port_or_range("1000:2000").empty());
  CHECK(check_port_or_range("80:80").empty());
  CHECK_FALSE(check_port_or_range("80:").empty());
  CHECK_FALSE(check_port_or_range(":80").empty());
}

TEST_CASE("CIDRs as netip.ParsePrefix reads them") {
  bool v6 = false, lo = false;
  std::string text;
  CHECK(parse_cidr("10.0.0.1/8", v6, text, lo).empty());
  CHECK(text == "10.0.0.1/8");  // host bits kept, as istio prints them
  CHECK(parse_cidr("2001:0DB8:0:0::/32", v6, text, lo).empty());
  CHECK(v6);
  CHECK(text == "2001:db8::/32");
  CHECK(parse_cidr("::1/128", v6, text, lo).empty());
  CHECK(lo);
  CHECK_FALSE(parse_cidr("010.0.0.0/8", v6, text, lo).empty());
  CHECK_FALSE(parse_cidr("10.0.0.0/08", v6, text, lo).empty());
  CHECK_FALSE(parse_cidr("10.0.0.0", v6, text, lo).empty());
  CHECK_FALSE(parse_cidr("::/129", v6, text, lo).empty());
}

TEST_CASE("interface names follow the kernel's dev_valid_name") {
  CHECK(check_interface("eth0").empty());
  CHECK(check_interface("veth+").empty());
  CHECK(check_interface("123456789012345").empty());
  CHECK_FALSE(check_interface("1234567890123456").empty());
  CHECK_FALSE(check_interface("").empty());
  CHECK_FALSE(check_interface("..").empty());
  CHECK_FALSE(check_interface("a:b").empty());
  CHECK_FALSE(check_interface("a b").empty());
}

TEST_CASE("owner ids: numbers or names") {
  CHECK(check_owner_id("0").empty());
  CHECK(check_owner_id("4294967294").empty());
  CHECK_FALSE(check_owner_id("4294967295").empty());
  CHECK(check_owner_id("istio-proxy").empty());
  CHECK(check_owner_id("_apt").empty());
  CHECK_FALSE(check_owner_id("-x").empty());
  CHECK_FALSE(check_owner_id("a b").empty());
}

TEST_CASE("split_list is istio's config.Split") {
  CHECK(split_list("").empty());
  CHECK(split_list(",,").empty());
  CHECK(split_list("a,,b,") == std::vector<std::string>{"a", "b"});
  CHECK(split_list(" a") == std::vector<std::string>{" a"});
}
