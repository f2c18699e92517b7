// Value parsers (see parse.h). Messages are built only on failure: the success path runs for
// every one of thousands of CIDRs in a large -x list.
#include "base/parse.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>

namespace snare {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool all_digits(std::string_view v) {
  return !v.empty() && std::all_of(v.begin(), v.end(), is_digit);
}

// Decimal digits only, at most `max_digits` of them (so that nothing can overflow).
template <typename T>
bool small_decimal(std::string_view v, size_t max_digits, T& out) {
  if (v.empty() || v.size() > max_digits || !all_digits(v)) return false;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  return ec == std::errc() && p == v.data() + v.size();
}

// A dotted quad, as glibc's inet_pton(AF_INET) takes it: four decimal octets, no leading zeros.
// Written out because inet_pton costs ten times as much, and -x lists run to thousands.
bool dotted_quad(std::string_view text, unsigned char* out) {
  size_t i = 0;
  for (int octet = 0; octet < 4; ++octet) {
    if (octet > 0 && (i >= text.size() || text[i++] != '.')) return false;
    const size_t start = i;
    unsigned value = 0;
    while (i < text.size() && is_digit(text[i]) && i - start < 3)
      value = value * 10 + static_cast<unsigned>(text[i++] - '0');
    if (i == start || value > 255 || (i - start > 1 && text[start] == '0')) return false;
    out[octet] = static_cast<unsigned char>(value);
  }
  return i == text.size();
}

// inet_pton needs a NUL-terminated string; addresses are short, so a stack copy does.
bool pton(int af, std::string_view text, unsigned char* out) {
  if (af == AF_INET) return dotted_quad(text, out);
  char buf[64];
  if (text.size() >= sizeof buf) return false;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  return inet_pton(af, buf, out) == 1;
}

}  // namespace

std::vector<std::string> split_all(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    const size_t at = s.find(sep, start);
    out.emplace_back(s.substr(start, at == std::string_view::npos ? s.size() - start : at - start));
    if (at == std::string_view::npos) return out;
    start = at + 1;
  }
}

std::vector<std::string> split_list(std::string_view s) {
  std::vector<std::string> out;
  out.reserve(static_cast<size_t>(std::count(s.begin(), s.end(), ',')) + 1);
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string_view::npos) comma = s.size();
    if (comma > start) out.emplace_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

Parsed<uint32_t> parse_u32(std::string_view v) {
  std::string_view digits = v;
  int base = 10;
  if (v.size() > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
    digits.remove_prefix(2);
    base = 16;
  }
  uint32_t out = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out, base);
  if (digits.empty() || ec != std::errc() || p != digits.data() + digits.size())
    return Parsed<uint32_t>::fail(
        fmt::format("\"{}\" is not a number (decimal or 0x hex, 32 bits)", v));
  return {out, {}};
}

Parsed<Mark> parse_mark(std::string_view v) {
  const size_t slash = v.find('/');
  auto value = parse_u32(v.substr(0, slash));
  auto mask = slash == std::string_view::npos ? Parsed<uint32_t>{0xffffffff, {}}
                                              : parse_u32(v.substr(slash + 1));
  if (!value.ok() || !mask.ok())
    return Parsed<Mark>::fail(
        fmt::format("\"{}\" is not a mark (a 32-bit number, optionally /mask)", v));
  return {{value.value, mask.value}, {}};
}

Parsed<uint16_t> parse_port(std::string_view v, bool allow_zero) {
  uint32_t n = 0;
  if (!small_decimal(v, 5, n) || n > 65535 || (n == 0 && !allow_zero))
    return Parsed<uint16_t>::fail(
        fmt::format("\"{}\" is not a port ({}-65535)", v, allow_zero ? 0 : 1));
  return {static_cast<uint16_t>(n), {}};
}

Parsed<PortRange> parse_port_range(std::string_view v) {
  const size_t colon = v.find(':');
  if (colon == std::string_view::npos) {
    auto p = parse_port(v);
    if (!p.ok())
      return Parsed<PortRange>::fail(
          fmt::format("\"{}\" is not a port (1-65535) or a range (a:b)", v));
    return {{p.value, p.value}, {}};
  }
  auto a = parse_port(v.substr(0, colon));
  auto b = parse_port(v.substr(colon + 1));
  if (!a.ok() || !b.ok() || a.value > b.value)
    return Parsed<PortRange>::fail(
        fmt::format("\"{}\" is not a port range (a:b with 1 <= a <= b <= 65535)", v));
  return {{a.value, b.value}, {}};
}

bool IpAddr::loopback() const {
  if (!v6) return bytes[0] == 127;
  static const std::array<unsigned char, 16> kLo = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return bytes == kLo;
}

std::string IpAddr::text() const {
  if (!v6) {
    // Why by hand: glibc's inet_ntop formats IPv4 through sprintf, and a trace renders an
    // address for each of thousands of rules (bench/trace.sh); the text is the same.
    std::string out;
    out.reserve(15);
    for (size_t i = 0; i < 4; ++i) {
      if (i) out += '.';
      const unsigned b = bytes[i];
      if (b >= 100) out += static_cast<char>('0' + b / 100);
      if (b >= 10) out += static_cast<char>('0' + b / 10 % 10);
      out += static_cast<char>('0' + b % 10);
    }
    return out;
  }
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof buf);
  return buf;
}

Parsed<IpAddr> parse_ip(std::string_view v) {
  IpAddr a;
  if (pton(AF_INET, v, a.bytes.data())) return {a, {}};
  if (v.find('%') == std::string_view::npos && pton(AF_INET6, v, a.bytes.data())) {
    a.v6 = true;
    return {a, {}};
  }
  return Parsed<IpAddr>::fail(fmt::format("\"{}\" is not an IP address", v));
}

Parsed<std::string> parse_pod_uid(std::string_view v) {
  const bool chars_ok = std::all_of(v.begin(), v.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
  if (v.empty() || v.size() > 128 || !chars_ok || !std::isalnum(static_cast<unsigned char>(v[0])))
    return Parsed<std::string>::fail(
        fmt::format("\"{}\" is not a pod UID (1 to 128 letters, digits, '-', '_' or '.', starting "
                    "with a letter "
                    "or digit, such as "
                    "0a1b2c3d-4e5f-6789-abcd-ef0123456789)",
                    v));
  return {std::string(v), {}};
}

Parsed<Prefix> parse_prefix(std::string_view v) {
  auto bad = [v](std::string_view detail) {
    return Parsed<Prefix>::fail(fmt::format(
        "\"{}\" is not a CIDR (address/length, e.g. 10.0.0.0/8 or fd00::/8){}", v, detail));
  };
  const size_t slash = v.find('/');
  if (slash == std::string_view::npos) return bad(": the /length is missing");
  const std::string_view len_text = v.substr(slash + 1);
  unsigned len = 0;
  // netip refuses leading zeros; three digits at most, so a long number cannot overflow.
  if (!small_decimal(len_text, 3, len) || (len_text.size() > 1 && len_text[0] == '0'))
    return bad(": the length is not a number from 0 to 128");
  auto ip = parse_ip(v.substr(0, slash));
  if (!ip.ok()) return bad("");
  if (!ip.value.v6 && len > 32) return bad(": IPv4 length is at most 32");
  if (len > 128) return bad(": IPv6 length is at most 128");
  return {{ip.value, static_cast<uint8_t>(len)}, {}};
}

Parsed<Cidr> parse_cidr(std::string_view v) {
  auto p = parse_prefix(v);
  if (!p.ok()) return Parsed<Cidr>::fail(std::move(p.error));
  Parsed<Cidr> out;
  static_cast<Prefix&>(out.value) = p.value;
  // istio pastes netip's Prefix.String(): IPv4 as written, IPv6 in canonical form.
  out.value.text =
      p.value.addr.v6 ? fmt::format("{}/{}", p.value.addr.text(), p.value.len) : std::string(v);
  return out;
}

Parsed<std::string> parse_interface(std::string_view v) {
  // The kernel's dev_valid_name(): 1-15 bytes, not "." or "..", no '/', ':' or whitespace.
  if (v.empty() || v.size() > 15 || v == "." || v == "..")
    return Parsed<std::string>::fail(
        fmt::format("\"{}\" is not an interface name (1-15 characters)", v));
  for (unsigned char c : v) {
    if (c == '/' || c == ':' || std::isspace(c) || c < 0x20 || c >= 0x7f)
      return Parsed<std::string>::fail(
          fmt::format("\"{}\" is not an interface name (no '/', ':' or spaces)", v));
  }
  return {std::string(v), {}};
}

Parsed<std::string> parse_owner_id(std::string_view v) {
  uint64_t n = 0;
  if (all_digits(v)) {
    if (!small_decimal(v, 10, n) || n >= 4294967295ULL)
      return Parsed<std::string>::fail(fmt::format("\"{}\" is not a valid ID (0-4294967294)", v));
    return {std::string(v), {}};
  }
  // Names as shadow-utils accepts them: [A-Za-z_][A-Za-z0-9_.-]*[$]?, at most 32 characters.
  bool ok = !v.empty() && v.size() <= 32 &&
            (std::isalpha(static_cast<unsigned char>(v[0])) || v[0] == '_');
  for (size_t i = 0; ok && i < v.size(); ++i) {
    const unsigned char c = v[i];
    ok = std::isalnum(c) || c == '_' || c == '.' || c == '-' || (c == '$' && i + 1 == v.size());
  }
  if (!ok)
    return Parsed<std::string>::fail(
        fmt::format("\"{}\" is neither a numeric ID nor a valid user/group name", v));
  return {std::string(v), {}};
}

Parsed<bool> parse_bool(std::string_view v) {
  if (v == "1" || v == "t" || v == "T" || v == "TRUE" || v == "true" || v == "True")
    return {true, {}};
  if (v == "0" || v == "f" || v == "F" || v == "FALSE" || v == "false" || v == "False")
    return {false, {}};
  return Parsed<bool>::fail(fmt::format(
      "\"{}\" is not a boolean (true or false; also 1 t T TRUE True, 0 f F FALSE False)", v));
}

namespace {

// Nanoseconds per unit, as Go's unitMap; 0 for an unknown unit.
uint64_t unit_ns(std::string_view u) {
  if (u == "ns") return 1;
  if (u == "us" || u == "\xc2\xb5s" || u == "\xce\xbcs") return 1000;  // us, µs (U+00B5), μs
  if (u == "ms") return 1000000;
  if (u == "s") return 1000000000;
  if (u == "m") return 60000000000;
  if (u == "h") return 3600000000000;
  return 0;
}

constexpr uint64_t kMaxDurationNs = uint64_t{1} << 63;  // Go's int64 nanoseconds

// One "<number><unit>" component of a Go duration, from `i` on; adds its nanoseconds to `ns`.
// In integers, as Go does: the whole part times the unit, plus the fraction scaled down.
bool duration_component(std::string_view v, size_t& i, uint64_t& ns) {
  uint64_t whole = 0, frac = 0, scale = 1;
  const size_t start = i;
  for (; i < v.size() && is_digit(v[i]); ++i) {
    if (whole > kMaxDurationNs / 10) return false;
    whole = whole * 10 + static_cast<uint64_t>(v[i] - '0');
  }
  const size_t int_end = i;
  if (i < v.size() && v[i] == '.') {
    for (++i; i < v.size() && is_digit(v[i]); ++i)
      if (scale < 1000000000000000000ULL)
        frac = frac * 10 + static_cast<uint64_t>(v[i] - '0'), scale *= 10;
  }
  // Go: at least one digit, before or after the point.
  if (int_end == start && i <= int_end + 1) return false;
  const size_t unit_start = i;
  while (i < v.size() && !is_digit(v[i]) && v[i] != '.') ++i;
  const uint64_t unit = unit_ns(v.substr(unit_start, i - unit_start));
  if (unit == 0 || whole > kMaxDurationNs / unit) return false;
  // frac/scale < 1, so frac * (unit / scale) stays below `unit`; long fractions lose only
  // sub-nanosecond digits.
  const long double part = static_cast<long double>(frac) * unit / static_cast<long double>(scale);
  ns += whole * unit + static_cast<uint64_t>(part);
  return ns <= kMaxDurationNs;
}

}  // namespace

Parsed<std::chrono::milliseconds> parse_duration(std::string_view v) {
  using Ms = std::chrono::milliseconds;
  auto bad = [v](const char* why) {
    return Parsed<Ms>::fail(
        fmt::format("\"{}\" is not a duration ({}; e.g. 5s, 1.5s, 1m30s, 500ms)", v, why));
  };
  if (v == "0") return {Ms(0), {}};  // Go's one unit-less duration
  if (!v.empty() && v[0] == '-') return bad("a timeout cannot be negative");
  std::string_view rest = v;
  if (!rest.empty() && rest[0] == '+') rest.remove_prefix(1);
  if (rest.empty()) return bad("a number with a unit: ns, us, ms, s, m, h");
  uint64_t ns = 0;
  for (size_t i = 0; i < rest.size();)
    if (!duration_component(rest, i, ns))
      return bad("a number with a unit: ns, us, ms, s, m, h; at most 2562047h");
  // Whole milliseconds, rounded up.
  return {Ms(static_cast<int64_t>(ns / 1000000 + (ns % 1000000 != 0 ? 1 : 0))), {}};
}

Parsed<LogLevel> parse_log_level(std::string_view v) {
  static const std::pair<const char*, LogLevel> kLevels[] = {
      {"debug", LogLevel::debug}, {"info", LogLevel::info},   {"warn", LogLevel::warn},
      {"error", LogLevel::error}, {"fatal", LogLevel::error}, {"none", LogLevel::none}};
  LogLevel level = LogLevel::info;
  for (const std::string& part : split_list(v)) {
    const size_t colon = part.find(':');
    const std::string_view scope =
        colon == std::string::npos ? "default" : std::string_view(part).substr(0, colon);
    const std::string_view name = colon == std::string::npos
                                      ? std::string_view(part)
                                      : std::string_view(part).substr(colon + 1);
    auto it = std::find_if(std::begin(kLevels), std::end(kLevels),
                           [&](const auto& l) { return name == l.first; });
    if (it == std::end(kLevels))
      return Parsed<LogLevel>::fail(fmt::format(
          "\"{}\" has an unknown level \"{}\" (debug, info, warn, error, fatal, none)", v, name));
    if (scope == "default") level = it->second;
  }
  return {level, {}};
}

}  // namespace snare
