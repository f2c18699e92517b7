// The node agent's event body and the pod's `snare ambient` flags (see ambient.h).
#include <arpa/inet.h>
#include <fmt/format.h>

#include <array>
#include <cstring>
#include <optional>

#include "cni/ambient.h"

namespace snare::cni {
namespace {

using nlohmann::ordered_json;

struct Ip {
  std::array<unsigned char, 16> bytes{};
  bool v4 = false;
};

std::optional<Ip> parse_ip(const std::string& s) {
  Ip ip;
  if (inet_pton(AF_INET, s.c_str(), ip.bytes.data()) == 1) return (ip.v4 = true, ip);
  if (inet_pton(AF_INET6, s.c_str(), ip.bytes.data()) == 1) return ip;
  return std::nullopt;
}

// Go's net.IP text: an IPv4-mapped IPv6 address prints as IPv4.
std::string ip_text(const Ip& ip) {
  static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  char buf[INET6_ADDRSTRLEN] = "";
  if (ip.v4) return inet_ntop(AF_INET, ip.bytes.data(), buf, sizeof buf);
  if (std::memcmp(ip.bytes.data(), kMapped, 12) == 0)
    return inet_ntop(AF_INET, ip.bytes.data() + 12, buf, sizeof buf);
  return inet_ntop(AF_INET6, ip.bytes.data(), buf, sizeof buf);
}

std::string base64(const std::string& in) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < in.size(); i += 3) {
    const size_t n = std::min<size_t>(3, in.size() - i);
    unsigned v = 0;
    for (size_t k = 0; k < 3; ++k)
      v = v << 8 | (k < n ? static_cast<unsigned char>(in[i + k]) : 0u);
    for (size_t k = 0; k < 4; ++k) out += k <= n ? kAlphabet[(v >> (18 - 6 * k)) & 63] : '=';
  }
  return out;
}

// An address "IP/PREFIX" as Go's net.IPNet marshals it: the IP's text and the mask's bytes (4 for
// IPv4, 16 for IPv6) in base64.
ordered_json address(const std::string& cidr) {
  const size_t slash = cidr.find('/');
  std::optional<Ip> ip = parse_ip(cidr.substr(0, slash));
  const std::string len = slash == std::string::npos ? "" : cidr.substr(slash + 1);
  const size_t bits = ip && ip->v4 ? 32 : 128;
  if (!ip || len.empty() || len.size() > 3 || len.find_first_not_of("0123456789") != len.npos ||
      std::stoul(len) > bits)
    throw std::invalid_argument(fmt::format("prevResult: invalid CIDR address: {}", cidr));
  std::string mask(bits / 8, '\0');
  for (size_t b = 0; b < std::stoul(len); ++b) mask[b / 8] |= static_cast<char>(0x80 >> (b % 8));
  ordered_json a;
  a["IP"] = ip_text(*ip);
  a["Mask"] = base64(mask);
  return a;
}

// One IPConfig of a 1.x result: Interface (null when absent), Address, Gateway ("" when absent).
ordered_json ip_config(const ordered_json& c, const char* address_key) {
  if (!c.is_object() || !c.contains(address_key) || !c[address_key].is_string())
    throw std::invalid_argument("prevResult: an IP has no address");
  ordered_json e;
  const ordered_json iface = c.value("interface", ordered_json());
  if (!iface.is_null() && !iface.is_number_integer())
    throw std::invalid_argument("prevResult: an IP's interface is not an integer");
  e["Interface"] = iface;
  e["Address"] = address(c[address_key].get<std::string>());
  std::string gw;
  if (c.contains("gateway") && c["gateway"].is_string()) {
    std::optional<Ip> ip = parse_ip(c["gateway"].get<std::string>());
    if (!ip) throw std::invalid_argument("prevResult: invalid gateway");
    gw = ip_text(*ip);
  }
  e["Gateway"] = gw;
  return e;
}

// prevResult's IPs in 1.x form: `ips` (0.3.0 on), or `ip4` and `ip6` (0.1.0, 0.2.0).
ordered_json ips(const ordered_json& prev) {
  ordered_json out = ordered_json::array();
  if (!prev.is_object()) return nullptr;
  if (prev.contains("ips") && prev["ips"].is_array())
    for (const ordered_json& c : prev["ips"]) out.push_back(ip_config(c, "address"));
  for (const char* family : {"ip4", "ip6"})
    if (!prev.contains("ips") && prev.contains(family) && prev[family].is_object())
      out.push_back(ip_config(prev[family], "ip"));
  return out.empty() ? ordered_json(nullptr) : out;
}

// Go's json.Marshal escapes these even inside strings; they appear nowhere else in JSON.
std::string go_escape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '<')
      out += "\\u003c";
    else if (s[i] == '>')
      out += "\\u003e";
    else if (s[i] == '&')
      out += "\\u0026";
    else if (s.compare(i, 3, "\xe2\x80\xa8") == 0)
      out += "\\u2028", i += 2;
    else if (s.compare(i, 3, "\xe2\x80\xa9") == 0)
      out += "\\u2029", i += 2;
    else
      out += s[i];
  }
  return out;
}

// Go's strconv.ParseBool; nullopt for what it refuses.
std::optional<bool> go_bool(const std::string& v) {
  for (const char* t : {"1", "t", "T", "TRUE", "true", "True"})
    if (v == t) return true;
  for (const char* f : {"0", "f", "F", "FALSE", "false", "False"})
    if (v == f) return false;
  return std::nullopt;
}

}  // namespace

Status add_event_body(const std::string& netns, const K8sArgs& k, const ordered_json& prev_result,
                      std::string& body) {
  ordered_json j;
  j["Netns"] = netns;
  j["PodName"] = k.pod_name;
  j["PodNamespace"] = k.pod_namespace;
  try {
    j["IPs"] = ips(prev_result);
  } catch (const std::exception& e) {
    return Status::Fail(e.what());
  }
  body = go_escape(j.dump(-1, ' ', false, ordered_json::error_handler_t::replace));
  return Status::Ok();
}

std::vector<std::string> ambient_flags(const PodInfo& pod) {
  std::vector<std::string> flags;
  auto annotation = [&](const char* name) -> std::optional<bool> {
    const auto it = pod.annotations.find(name);
    return it == pod.annotations.end() ? std::nullopt : go_bool(it->second);
  };
  if (annotation("ambient.istio.io/bypass-inbound-capture").value_or(false))
    flags.push_back("--bypass-inbound-capture");
  if (auto dns = annotation("ambient.istio.io/dns-capture"))
    flags.push_back(*dns ? "--pod-dns-capture=true" : "--pod-dns-capture=false");
  std::string list;
  if (auto it = pod.annotations.find("istio.io/reroute-virtual-interfaces");
      it != pod.annotations.end())
    for (size_t at = 0; at <= it->second.size();) {
      const size_t comma = std::min(it->second.find(',', at), it->second.size());
      std::string name = it->second.substr(at, comma - at);
      name.erase(0, name.find_first_not_of(" \t\n\v\f\r"));
      name.erase(name.find_last_not_of(" \t\n\v\f\r") + 1);
      if (!name.empty()) list += (list.empty() ? "" : ",") + name;
      at = comma + 1;
    }
  if (!list.empty()) flags.insert(flags.end(), {"--reroute-virtual-interfaces", list});
  return flags;
}

}  // namespace snare::cni
