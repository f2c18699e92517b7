// Building blocks of the nftables JSON forms (see nft_json.h).
#include "ext/nft_json.h"

#include <algorithm>
#include <cctype>

#include "base/parse.h"

namespace snare::nft {

Json meta(const char* key) { return {{"meta", {{"key", key}}}}; }

Json ct(const char* key) { return {{"ct", {{"key", key}}}}; }

Json payload(const std::string& proto, const char* field) {
  return {{"payload", {{"protocol", proto}, {"field", field}}}};
}

Json match(bool invert, Json left, Json right) {
  return {{"match",
           {{"op", invert ? "!=" : "=="}, {"left", std::move(left)}, {"right", std::move(right)}}}};
}

Json counter() { return {{"counter", {{"packets", 0}, {"bytes", 0}}}}; }

Json mangle(Json key, Json value) {
  return {{"mangle", {{"key", std::move(key)}, {"value", std::move(value)}}}};
}

Json masked(Json key, const std::string& mark) {
  const size_t slash = mark.find('/');
  if (slash == std::string::npos) return key;
  Json out = Json::object();
  out["&"] = Json::array({std::move(key), number(mark.substr(slash + 1))});
  return out;
}

Json number(const std::string& text) {
  if (auto n = parse_u32(text); n.ok()) return n.value;
  return text;
}

Json port(const std::string& text) {
  const size_t colon = text.find_first_of(":-");
  if (colon == std::string::npos) return number(text);
  return {{"range", {number(text.substr(0, colon)), number(text.substr(colon + 1))}}};
}

std::string port_text(const std::string& text) {
  std::string out = text;
  std::replace(out.begin(), out.end(), ':', '-');
  return out;
}

std::string iface_value(const std::string& iptables_name) {
  const bool wildcard = !iptables_name.empty() && iptables_name.back() == '+';
  const std::string stem =
      wildcard ? iptables_name.substr(0, iptables_name.size() - 1) : iptables_name;
  std::string out;
  for (char c : stem) {
    if (c == '*') out += '\\';
    out += c;
  }
  return wildcard ? out + '*' : out;
}

std::string iface_text(const std::string& iptables_name) {
  return iface_literal(iface_value(iptables_name));
}

std::string iface_literal(const std::string& v) {
  bool plain = !v.empty() && std::isalpha(static_cast<unsigned char>(v[0]));
  bool marked = v == "lo";  // with a digit or punctuation, not a keyword such as "counter"
  for (unsigned char c : v) {
    plain = plain && (std::isalnum(c) || c == '.' || c == '_' || c == '-');
    marked = marked || std::isdigit(c) || c == '.' || c == '_' || c == '-';
  }
  return plain && marked ? v : '"' + v + '"';
}

bool iface_expressible(const std::string& name) {
  return name.find_first_of("\"\\") == std::string::npos;
}

}  // namespace snare::nft
