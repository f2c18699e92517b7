// The kubeconfig's server URL (see server_url.h).
#include "cni/server_url.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace snare::cni {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool is_ip(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// "host", "host:port", "[v6]" or "[v6]:port" into host and port; false when malformed.
bool split_authority(const std::string& a, std::string& host, std::string& port) {
  size_t colon;
  if (!a.empty() && a[0] == '[') {
    const size_t close = a.find(']');
    if (close == std::string::npos) return false;
    host = a.substr(1, close - 1);
    if (close + 1 < a.size() && a[close + 1] != ':') return false;
    colon = close + 1 < a.size() ? close + 1 : std::string::npos;
    if (!is_ip(host)) return false;
  } else {
    colon = a.find(':');
    host = a.substr(0, colon);
  }
  if (colon == std::string::npos) return !host.empty();
  port = a.substr(colon + 1);
  if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), ::isdigit))
    return false;
  const int n = std::stoi(port);
  return !host.empty() && n >= 1 && n <= 65535;
}

}  // namespace

Status parse_server_url(const std::string& url, ServerUrl& out) {
  auto bad = [&](const char* why) {
    return Status::Fail(fmt::format("the server URL \"{}\" {}", url, why));
  };
  const size_t sep = url.find("://");
  if (sep == std::string::npos) return bad("has no scheme (https://)");
  const std::string scheme = lower(url.substr(0, sep));
  if (scheme != "https" && scheme != "http") return bad("is neither https:// nor http://");
  out = ServerUrl{};
  out.tls = scheme == "https";
  const std::string rest = url.substr(sep + 3);
  const size_t slash = rest.find('/');
  out.authority = rest.substr(0, slash);
  if (rest.find_first_of("?#") != std::string::npos) return bad("has a query or fragment");
  if (out.authority.find('@') != std::string::npos) return bad("has a user part");
  if (!split_authority(out.authority, out.host, out.port)) return bad("has no valid host[:port]");
  if (out.port.empty()) out.port = out.tls ? "443" : "80";
  out.host_is_ip = is_ip(out.host);
  out.prefix = slash == std::string::npos ? "" : rest.substr(slash);
  while (!out.prefix.empty() && out.prefix.back() == '/') out.prefix.pop_back();
  return Status::Ok();
}

}  // namespace snare::cni
