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

const Json* member(const Json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  const auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

const Json* statement(const Json& stmt, const char* kind) {
  return stmt.is_object() && stmt.size() == 1 ? member(stmt, kind) : nullptr;
}

bool read_match(const Json& stmt, MatchParts& out) {
  const Json* m = statement(stmt, "match");
  const Json* op = m ? member(*m, "op") : nullptr;
  if (!op || !op->is_string() || m->size() != 3) return false;
  out.op = op->get<std::string>();
  out.left = member(*m, "left");
  out.right = member(*m, "right");
  return out.left && out.right;
}

namespace {

bool keyed(const Json& expr, const char* kind, const char* key) {
  const Json* body = statement(expr, kind);
  const Json* k = body && body->size() == 1 ? member(*body, "key") : nullptr;
  return k && k->is_string() && k->get_ref<const std::string&>() == key;
}

}  // namespace

bool is_meta(const Json& expr, const char* key) { return keyed(expr, "meta", key); }
bool is_ct(const Json& expr, const char* key) { return keyed(expr, "ct", key); }

std::string payload_protocol(const Json& expr, const char* field) {
  const Json* p = statement(expr, "payload");
  const Json* proto = p && p->size() == 2 ? member(*p, "protocol") : nullptr;
  const Json* f = p ? member(*p, "field") : nullptr;
  if (!proto || !proto->is_string() || !f || !f->is_string() ||
      f->get_ref<const std::string&>() != field)
    return "";
  return proto->get<std::string>();
}

std::optional<uint32_t> u32(const Json& v) {
  if (!v.is_number_unsigned() || v.get<uint64_t>() > 0xffffffffu) return std::nullopt;
  return static_cast<uint32_t>(v.get<uint64_t>());
}

std::optional<std::string> port_of(const Json& v) {
  auto one = [](const Json& p) -> std::optional<uint32_t> {
    auto n = u32(p);
    return n && *n <= 0xffff ? n : std::nullopt;
  };
  if (auto n = one(v)) return std::to_string(*n);
  const Json* r = statement(v, "range");
  if (!r || !r->is_array() || r->size() != 2) return std::nullopt;
  auto lo = one((*r)[0]), hi = one((*r)[1]);
  if (!lo || !hi || *lo > *hi) return std::nullopt;
  return std::to_string(*lo) + ":" + std::to_string(*hi);
}

std::optional<uint32_t> masked_key(const Json& expr, bool (*is_key)(const Json&)) {
  if (is_key(expr)) return 0xffffffffu;
  const Json* a = statement(expr, "&");
  if (!a || !a->is_array() || a->size() != 2 || !is_key((*a)[0])) return std::nullopt;
  return u32((*a)[1]);
}

size_t counter_at(std::span<const Json> stmts) {
  return !stmts.empty() && statement(stmts[0], "counter") ? 1 : 0;
}

}  // namespace snare::nft
