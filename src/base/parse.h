// Parsers for every kind of value snare takes, one per kind, shared by the rule flags, their
// environment variables and `snare proxy` (docs/DESIGN.md, "Values"). They follow istio's Go
// rules where istio has one: booleans as strconv.ParseBool, durations as time.ParseDuration,
// CIDRs as netip.ParsePrefix, lists as its config.Split.
//
// A parser returns the value, or the reason the text is not one: a sentence that quotes the text
// and says what was expected, to which the caller adds the flag or variable's name. Pure
// functions, no I/O; the success path allocates nothing beyond its result.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/log.h"

namespace snare {

template <typename T>
struct Parsed {
  T value{};
  std::string error;  // empty when the text parsed
  bool ok() const { return error.empty(); }
  static Parsed fail(std::string why) { return Parsed{T{}, std::move(why)}; }
};

// istio's config.Split: split on commas, drop empty elements, trim nothing.
std::vector<std::string> split_list(std::string_view text);

// Go's strings.Split: every element, empty ones included ("a;;b" -> "a", "", "b").
std::vector<std::string> split_all(std::string_view text, char sep);

// A number of 32 bits, decimal or with a 0x prefix hex (marks and tables are written both ways).
Parsed<uint32_t> parse_u32(std::string_view text);

// A packet or connection mark: a 32-bit number (decimal or 0x hex), optionally "/mask" (the mask
// defaults to 0xffffffff).
struct Mark {
  uint32_t value = 0;
  uint32_t mask = 0xffffffff;
};
Parsed<Mark> parse_mark(std::string_view text);

// A port, 1-65535, in decimal; with `allow_zero`, 0 too (snare proxy's "no listener").
Parsed<uint16_t> parse_port(std::string_view text, bool allow_zero = false);

// A port or an iptables range "a:b" with a <= b.
struct PortRange {
  uint16_t lo = 0;
  uint16_t hi = 0;
};
Parsed<PortRange> parse_port_range(std::string_view text);

// An IPv4 or IPv6 address (no zone).
struct IpAddr {
  bool v6 = false;
  std::array<unsigned char, 16> bytes{};  // network order; IPv4 uses the first 4
  bool loopback() const;                  // 127.0.0.0/8 or ::1
  std::string text() const;               // inet_ntop's spelling (IPv6 lower-case, compressed)
};
Parsed<IpAddr> parse_ip(std::string_view text);

// A pod's UID as the probe sets' member comments carry it (Kubernetes writes a UUID): 1 to 128
// characters of letters, digits, '-', '_' and '.', the first a letter or digit, so that it is one
// word in ipset's and nft's comment syntax and never taken for a flag.
Parsed<std::string> parse_pod_uid(std::string_view text);

// A prefix as netip.ParsePrefix takes it: address/length, no zone, no leading zeros.
struct Prefix {
  IpAddr addr;      // as written: host bits are kept, as netip keeps them
  uint8_t len = 0;  // 0-32 or 0-128
};
Parsed<Prefix> parse_prefix(std::string_view text);

// The same, with netip's Prefix.String(): what istio pastes into its rules.
struct Cidr : Prefix {
  std::string text;
};
Parsed<Cidr> parse_cidr(std::string_view text);

// A Linux interface name, as the kernel's dev_valid_name() allows (iptables' `eth+` included).
Parsed<std::string> parse_interface(std::string_view text);

// A numeric UID/GID (0-4294967294) or a user/group name as shadow-utils allows it.
Parsed<std::string> parse_owner_id(std::string_view text);

// Go's strconv.ParseBool: 1 t T TRUE true True / 0 f F FALSE false False, nothing else.
Parsed<bool> parse_bool(std::string_view text);

// Go's time.ParseDuration: "5s", "1.5s", "1m30s", "500ms", "0"; a bare number is an error, and so
// is a negative one (every duration snare takes is a timeout). Rounded up to whole milliseconds,
// so that a non-zero duration never becomes "none".
Parsed<std::chrono::milliseconds> parse_duration(std::string_view text);

// istio's --log_output_level: "<scope>:<level>,..." or a bare level; snare uses the `default`
// scope's level (or the bare one) and accepts other scopes without using them. `fatal` is error.
Parsed<LogLevel> parse_log_level(std::string_view text);

}  // namespace snare
