// Value checks for flags: each returns an empty string when the value is good, or the reason it
// is not (the caller adds the flag's name). Pure functions, no I/O.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace snare {

// istio's config.Split: split on commas, drop empty elements, no trimming.
std::vector<std::string> split_list(const std::string& s);

std::string check_port(const std::string& v);           // 1-65535
std::string check_port_or_range(const std::string& v);  // 1-65535 or a:b with a <= b
std::string check_interface(const std::string& v);      // a Linux interface name (iptables' '+' ok)
std::string check_owner_id(const std::string& v);       // a UID/GID number or a user/group name
std::string check_log_level(const std::string& v, int& level_out);

// A uint32 in decimal or 0x hex; `what` shapes the message.
std::string parse_u32(const std::string& v, uint32_t& out);

// istio's ParseBool: 1 t T TRUE true True 0 f F FALSE false False.
std::optional<bool> parse_bool(const std::string& v);

// Go's time.ParseDuration ("5s", "500ms", "1m30s"); a bare number is an error, as in Go.
std::string parse_duration(const std::string& v, std::chrono::milliseconds& out);

// A CIDR as netip.ParsePrefix takes it (address/length, no zone). On success sets `v6` and
// `text` to istio's spelling (netip's Prefix.String(): v6 lower-cased and compressed, host bits
// kept), and `loopback` when the address is a loopback one.
std::string parse_cidr(const std::string& v, bool& v6, std::string& text, bool& loopback);

// An IP address (for --dns-servers).
std::string parse_ip(const std::string& v, bool& v6);

}  // namespace snare
