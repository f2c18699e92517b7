// The value parsers, with the expected values taken from the kernel's and Go's documented rules
// (strconv.ParseBool, time.ParseDuration, netip.ParsePrefix, dev_valid_name).
#include "base/parse.h"

#include <arpa/inet.h>

#include <catch2/catch.hpp>
#include <random>

using namespace snare;

TEST_CASE("booleans are Go's strconv.ParseBool, nothing more") {
  for (const char* t : {"1", "t", "T", "TRUE", "true", "True"}) CHECK(parse_bool(t).value);
  for (const char* f : {"0", "f", "F", "FALSE", "false", "False"}) {
    CHECK(parse_bool(f).ok());
    CHECK_FALSE(parse_bool(f).value);
  }
  for (const char* bad : {"yes", "no", "on", "off", "tRUE", "", " true", "2"}) {
    INFO(bad);
    CHECK_FALSE(parse_bool(bad).ok());
    CHECK_THAT(parse_bool(bad).error, Catch::Contains(std::string("\"") + bad + "\""));
  }
}

TEST_CASE("durations are Go's time.ParseDuration, without negatives") {
  using std::chrono::milliseconds;
  CHECK(parse_duration("5s").value == milliseconds(5000));
  CHECK(parse_duration("1.5s").value == milliseconds(1500));
  CHECK(parse_duration("500ms").value == milliseconds(500));
  CHECK(parse_duration("1m30s").value == milliseconds(90000));
  CHECK(parse_duration("1.5h").value == milliseconds(5400000));
  CHECK(parse_duration(".5s").value == milliseconds(500));
  CHECK(parse_duration("+2s").value == milliseconds(2000));
  CHECK(parse_duration("1h2m3s4ms").value == milliseconds(3723004));
  CHECK(parse_duration("0").value == milliseconds(0));
  CHECK(parse_duration("0s").value == milliseconds(0));
  // Below a millisecond rounds up: a timeout that was asked for never becomes "none".
  CHECK(parse_duration("1ns").value == milliseconds(1));
  CHECK(parse_duration("2\xc2\xb5s").value == milliseconds(1));
  for (const char* bad : {"5", "5 s", "s", "", ".s", "1.5", "1d", "-1s", "1e3s", "5S"}) {
    INFO(bad);
    CHECK_FALSE(parse_duration(bad).ok());
  }
  CHECK_THAT(parse_duration("-1s").error, Catch::Contains("negative"));
}

TEST_CASE("32-bit numbers, decimal or hex, never overflow") {
  CHECK(parse_u32("1337").value == 1337);
  CHECK(parse_u32("0x539").value == 0x539);
  CHECK(parse_u32("0X539").value == 0x539);
  CHECK(parse_u32("4294967295").value == 4294967295u);
  for (const char* bad :
       {"4294967296", "99999999999999999999", "0x", "0x1ffffffff", "-1", "1 ", "", "12a"}) {
    INFO(bad);
    CHECK_FALSE(parse_u32(bad).ok());
  }
}

TEST_CASE("ports and ranges") {
  CHECK(parse_port("1").value == 1);
  CHECK(parse_port("65535").value == 65535);
  CHECK_FALSE(parse_port("0").ok());
  CHECK(parse_port("0", true).ok());
  for (const char* bad : {"65536", "-1", "1:2", "", "99999999999", "0x50"})
    CHECK_FALSE(parse_port(bad).ok());
  CHECK(parse_port_range("1000:2000").value.hi == 2000);
  CHECK(parse_port_range("80:80").ok());
  for (const char* bad : {"80:", ":80", "2000:1000", "1:70000"})
    CHECK_FALSE(parse_port_range(bad).ok());
}

TEST_CASE("CIDRs as netip.ParsePrefix reads them, no length can overflow") {
  auto c = parse_cidr("10.0.0.1/8");
  REQUIRE(c.ok());
  CHECK(c.value.text == "10.0.0.1/8");  // host bits kept, as istio prints them
  CHECK_FALSE(c.value.addr.v6);
  auto v6 = parse_cidr("2001:0DB8:0:0::/32");
  REQUIRE(v6.ok());
  CHECK(v6.value.addr.v6);
  CHECK(v6.value.text == "2001:db8::/32");
  CHECK(parse_cidr("::1/128").value.addr.loopback());
  CHECK(parse_cidr("127.3.0.0/16").value.addr.loopback());
  for (const char* bad : {"010.0.0.0/8", "10.0.0.0/08", "10.0.0.0", "::/129", "10.0.0.0/33",
                          "10.0.0.0/2147483648", "10.0.0.0/4294967295", "10.0.0.0/99999999999",
                          "fe80::1%eth0/64", "10.0.0.0/-1", "10.0.0.0/"}) {
    INFO(bad);
    auto p = parse_cidr(bad);
    CHECK_FALSE(p.ok());
    CHECK_THAT(p.error, Catch::Contains(bad));
  }
}

TEST_CASE("interface names follow the kernel's dev_valid_name") {
  CHECK(parse_interface("eth0").ok());
  CHECK(parse_interface("veth+").ok());
  CHECK(parse_interface("123456789012345").ok());
  for (const char* bad : {"1234567890123456", "", "..", ".", "a:b", "a b", "a/b"})
    CHECK_FALSE(parse_interface(bad).ok());
}

TEST_CASE("owner ids: numbers or names") {
  CHECK(parse_owner_id("0").ok());
  CHECK(parse_owner_id("4294967294").ok());
  for (const char* bad : {"4294967295", "12345678901", "-x", "a b", "1337;rm"})
    CHECK_FALSE(parse_owner_id(bad).ok());
  CHECK(parse_owner_id("istio-proxy").ok());
  CHECK(parse_owner_id("_apt").ok());
}

TEST_CASE("marks: a number and an optional mask") {
  CHECK(parse_mark("1337").value.mask == 0xffffffff);
  CHECK(parse_mark("0x539/0xfff").value.mask == 0xfff);
  CHECK_FALSE(parse_mark("13x").ok());
  CHECK_FALSE(parse_mark("1/").ok());
}

TEST_CASE("log levels: istio's scopes, the default scope's level") {
  CHECK(parse_log_level("default:debug").value == LogLevel::debug);
  CHECK(parse_log_level("warn").value == LogLevel::warn);
  CHECK(parse_log_level("ads:debug,default:error").value == LogLevel::error);
  CHECK(parse_log_level("ads:debug").value == LogLevel::info);
  CHECK(parse_log_level("fatal").value == LogLevel::error);
  CHECK_FALSE(parse_log_level("loud").ok());
}

TEST_CASE("split_list is istio's config.Split") {
  CHECK(split_list("").empty());
  CHECK(split_list(",,").empty());
  CHECK(split_list("a,,b,") == std::vector<std::string>{"a", "b"});
  CHECK(split_list(" a") == std::vector<std::string>{" a"});
}

TEST_CASE("IPv4 addresses are accepted exactly as glibc's inet_pton accepts them") {
  // The parser reads dotted quads itself (for speed); inet_pton is the oracle.
  std::mt19937 rnd(4);
  int valid = 0;
  const char alphabet[] = "0123456789..25";
  for (int i = 0; i < 200000; ++i) {
    std::string s;
    if (i % 2) {  // near-quads: four groups of 0-4 digits, with a stray dot now and then
      for (int g = 0; g < 4; ++g) {
        if (g) s += '.';
        for (size_t k = rnd() % 4; k > 0; --k) s += alphabet[rnd() % 10];
      }
      if (rnd() % 8 == 0) s += '.';
    } else {
      for (size_t k = 1 + rnd() % 16; k > 0; --k) s += alphabet[rnd() % (sizeof alphabet - 1)];
    }
    unsigned char want[4];
    const bool ok = inet_pton(AF_INET, s.c_str(), want) == 1;
    auto got = parse_ip(s);
    INFO(s);
    REQUIRE((got.ok() && !got.value.v6) == ok);
    valid += ok;
    if (ok) REQUIRE(std::equal(want, want + 4, got.value.bytes.begin()));
  }
  CHECK(valid > 2000);  // the comparison covered accepted addresses, not only refusals
}

TEST_CASE("IPv4 addresses print exactly as glibc's inet_ntop prints them") {
  // The text is written by hand (for speed); inet_ntop is the oracle.
  std::mt19937 rnd(5);
  for (int i = 0; i < 100000; ++i) {
    IpAddr a;
    for (size_t k = 0; k < 4; ++k)  // small bytes often: 0, 1 and 2 digits
      a.bytes[k] = static_cast<unsigned char>(i % 3 == 0 ? rnd() % 10 : rnd() % 256);
    char want[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, a.bytes.data(), want, sizeof want);
    REQUIRE(a.text() == want);
  }
}
