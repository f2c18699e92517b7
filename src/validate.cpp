// Value checks for flags (see validate.h).
#include "validate.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace snare {

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    if (comma > start) out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

namespace {

bool all_digits(const std::string& v) {
  return !v.empty() && v.size() <= 10 &&
         std::all_of(v.begin(), v.end(), [](unsigned char c) { return std::isdigit(c); });
}

bool port_number(const std::string& v, uint32_t& out) {
  if (!all_digits(v)) return false;
  std::from_chars(v.data(), v.data() + v.size(), out);
  return out >= 1 && out <= 65535;
}

}  // namespace

std::string check_port(const std::string& v) {
  uint32_t p = 0;
  if (!port_number(v, p)) return fmt::format("\"{}\" is not a port (1-65535)", v);
  return {};
}

std::string check_port_or_range(const std::string& v) {
  auto colon = v.find(':');
  uint32_t a = 0, b = 0;
  if (colon == std::string::npos) {
    if (!port_number(v, a))
      return fmt::format("\"{}\" is not a port (1-65535) or a range (a:b)", v);
    return {};
  }
  if (!port_number(v.substr(0, colon), a) || !port_number(v.substr(colon + 1), b) || a > b) {
    return fmt::format("\"{}\" is not a port range (a:b with 1 <= a <= b <= 65535)", v);
  }
  return {};
}

std::string check_interface(const std::string& v) {
  // The kernel's dev_valid_name(): 1-15 bytes, not "." or "..", no '/', ':' or whitespace.
  if (v.empty() || v.size() > 15 || v == "." || v == "..") {
    return fmt::format("\"{}\" is not an interface name (1-15 characters)", v);
  }
  for (unsigned char c : v) {
    if (c == '/' || c == ':' || std::isspace(c) || c < 0x20 || c >= 0x7f) {
      return fmt::format("\"{}\" is not an interface name (no '/', ':' or spaces)", v);
    }
  }
  return {};
}

std::string check_owner_id(const std::string& v) {
  if (all_digits(v)) {
    uint64_t n = 0;
    std::from_chars(v.data(), v.data() + v.size(), n);
    if (n >= 4294967295ULL) return fmt::format("\"{}\" is not a valid ID (0-4294967294)", v);
    return {};
  }
  // Names as shadow-utils accepts them: [A-Za-z_][A-Za-z0-9_.-]*[$]?, at most 32 characters.
  bool ok = !v.empty() && v.size() <= 32 &&
            (std::isalpha(static_cast<unsigned char>(v[0])) || v[0] == '_');
  for (size_t i = 0; ok && i < v.size(); ++i) {
    unsigned char c = v[i];
    ok = std::isalnum(c) || c == '_' || c == '.' || c == '-' || (c == '$' && i + 1 == v.size());
  }
  if (!ok) return fmt::format("\"{}\" is neither a numeric ID nor a valid user/group name", v);
  return {};
}

std::string check_log_level(const std::string& v, int& level_out) {
  // istio: "<scope>:<level>,..." or a bare level; snare uses the `default` scope's level (or the
  // bare one) and accepts other scopes without using them.
  static const char* kLevels[] = {"debug", "info", "warn", "error", "fatal", "none"};
  auto level_index = [&](const std::string& l) {
    for (int i = 0; i < 6; ++i)
      if (l == kLevels[i]) return i;
    return -1;
  };
  level_out = 1;
  for (const auto& part : split_list(v)) {
    auto colon = part.find(':');
    std::string scope = colon == std::string::npos ? "default" : part.substr(0, colon);
    std::string lvl = colon == std::string::npos ? part : part.substr(colon + 1);
    int i = level_index(lvl);
    if (i < 0) {
      return fmt::format(
          "\"{}\" has an unknown level \"{}\" (debug, info, warn, error, fatal, none)", v, lvl);
    }
    if (scope == "default") level_out = i;
  }
  return {};
}

std::string parse_u32(const std::string& v, uint32_t& out) {
  const char* b = v.data();
  const char* e = v.data() + v.size();
  int base = 10;
  if (v.size() > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
    b += 2;
    base = 16;
  }
  auto [p, ec] = std::from_chars(b, e, out, base);
  if (b == e || ec != std::errc() || p != e) {
    return fmt::format("\"{}\" is not a number (decimal or 0x hex, 32 bits)", v);
  }
  return {};
}

std::optional<bool> parse_bool(const std::string& v) {
  if (v == "1" || v == "t" || v == "T" || v == "TRUE" || v == "true" || v == "True") return true;
  if (v == "0" || v == "f" || v == "F" || v == "FALSE" || v == "false" || v == "False")
    return false;
  return std::nullopt;
}

std::string parse_duration(const std::string& v, std::chrono::milliseconds& out) {
  const std::string bad = fmt::format(
      "\"{}\" is not a duration (a number with a unit: ns, us, ms, s, m, h; e.g. 5s, 500ms)", v);
  if (v.empty()) return bad;
  if (v == "0") {
    out = std::chrono::milliseconds(0);
    return {};
  }
  double total_ns = 0;
  size_t i = 0;
  while (i < v.size()) {
    size_t start = i;
    while (i < v.size() && (std::isdigit(static_cast<unsigned char>(v[i])) || v[i] == '.')) ++i;
    if (i == start) return bad;
    double num = 0;
    auto [p, ec] = std::from_chars(v.data() + start, v.data() + i, num);
    if (ec != std::errc() || p != v.data() + i) return bad;
    size_t ustart = i;
    while (i < v.size() && !std::isdigit(static_cast<unsigned char>(v[i])) && v[i] != '.') ++i;
    std::string unit = v.substr(ustart, i - ustart);
    double mult = 0;
    if (unit == "ns")
      mult = 1;
    else if (unit == "us" || unit == "\xc2\xb5s" || unit == "\xce\xbcs")
      mult = 1e3;
    else if (unit == "ms")
      mult = 1e6;
    else if (unit == "s")
      mult = 1e9;
    else if (unit == "m")
      mult = 60e9;
    else if (unit == "h")
      mult = 3600e9;
    else
      return bad;
    total_ns += num * mult;
  }
  if (total_ns > 1e18) return bad;
  out = std::chrono::milliseconds(static_cast<int64_t>(total_ns / 1e6));
  return {};
}

std::string parse_ip(const std::string& v, bool& v6) {
  unsigned char buf[16];
  if (inet_pton(AF_INET, v.c_str(), buf) == 1) {
    v6 = false;
    return {};
  }
  if (inet_pton(AF_INET6, v.c_str(), buf) == 1) {
    v6 = true;
    return {};
  }
  return fmt::format("\"{}\" is not an IP address", v);
}

std::string parse_cidr(const std::string& v, bool& v6, std::string& text, bool& loopback) {
  const std::string bad =
      fmt::format("\"{}\" is not a CIDR (address/length, e.g. 10.0.0.0/8 or fd00::/8)", v);
  auto slash = v.find('/');
  if (slash == std::string::npos) return bad + ": the /length is missing";
  std::string addr = v.substr(0, slash);
  std::string len_text = v.substr(slash + 1);
  if (!all_digits(len_text) || (len_text.size() > 1 && len_text[0] == '0')) return bad;
  int len = std::stoi(len_text);
  unsigned char buf[16];
  if (inet_pton(AF_INET, addr.c_str(), buf) == 1) {
    if (len > 32) return bad + ": IPv4 length is at most 32";
    v6 = false;
    text = fmt::format("{}/{}", addr, len);
    loopback = buf[0] == 127;
    return {};
  }
  if (addr.find('%') == std::string::npos && inet_pton(AF_INET6, addr.c_str(), buf) == 1) {
    if (len > 128) return bad + ": IPv6 length is at most 128";
    v6 = true;
    char out[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, buf, out, sizeof out);
    text = fmt::format("{}/{}", out, len);
    static const unsigned char kLo[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    loopback = std::equal(buf, buf + 16, kLo);
    return {};
  }
  return bad;
}

}  // namespace snare
