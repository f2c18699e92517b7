// istio-cni's decisions for a sidecar pod (see redirect.h).
#include "cni/redirect.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <regex>

#include "base/parse.h"

namespace snare::cni {
namespace {

enum class Kind { mode, cidrs_or_star, cidrs, ports_or_star, interfaces };

// An annotation istio reads: its key, default when absent, and validator.
struct AnnotationParam {
  const char* key;
  const char* fallback;
  Kind kind;
};

std::string trim(std::string_view s) {
  const size_t b = s.find_first_not_of(" \t\n\r\v\f");
  if (b == std::string_view::npos) return "";
  return std::string(s.substr(b, s.find_last_not_of(" \t\n\r\v\f") - b + 1));
}

// istio's validators (validateInterceptionMode, validateCIDRList..., validatePortList...,
// ValidateInterfaceNames); "" when valid.
std::string invalid(Kind kind, const std::string& v) {
  switch (kind) {
    case Kind::mode:
      return v == "REDIRECT" || v == "TPROXY" ? "" : "interceptionMode invalid: " + v;
    case Kind::cidrs_or_star:
    case Kind::cidrs:
      if (kind == Kind::cidrs_or_star && v == "*") return "";
      for (const std::string& c : v.empty() ? std::vector<std::string>{} : split_all(v, ','))
        if (auto p = parse_prefix(c); !p.ok())
          return fmt::format("failed parsing cidr '{}': {}", c, p.error);
      return "";
    case Kind::ports_or_star:
      if (v == "*" || trim(v).empty()) return "";
      for (const std::string& p : split_all(trim(v), ','))
        if (auto n = parse_port(trim(p), true); !n.ok())
          return fmt::format("portList \"{}\" invalid: {}", v, n.error);
      return "";
    case Kind::interfaces: {
      // istio's ValidateInterfaceNames: 1-15 characters, a letter first.
      static const std::regex kName("^[a-zA-Z][a-zA-Z0-9_.\\-]*$");
      for (const std::string& i : v.empty() ? std::vector<std::string>{} : split_all(v, ',')) {
        if (trim(i).empty()) return "empty interface name";
        if (trim(i).size() > 15)
          return fmt::format("interface name \"{}\" too long (max 15 chars)", trim(i));
        if (!std::regex_match(trim(i), kName))
          return fmt::format("interface name \"{}\" contains invalid characters", trim(i));
      }
      return "";
    }
  }
  return "";
}

// The annotation's value, or its default when absent; `found` says which.
Status annotation(const PodInfo& pod, const AnnotationParam& p, std::string& value, bool& found) {
  auto it = pod.annotations.find(p.key);
  found = it != pod.annotations.end();
  value = found ? it->second : p.fallback;
  if (!found) return Status::Ok();
  if (const std::string why = invalid(p.kind, value); !why.empty())
    return Status::Fail(fmt::format("annotation {}=\"{}\" is invalid: {}", p.key, value, why));
  return Status::Ok();
}

// "80, 443" (or "eth1, eth2") as istio's rule text ends up using it: each element trimmed.
std::string ports(const std::string& list) {
  if (list == "*") return list;
  std::vector<std::string> out;
  for (const std::string& p : split_all(trim(list), ',')) out.push_back(trim(p));
  return trim(list).empty() ? "" : fmt::format("{}", fmt::join(out, ","));
}

// istio always excludes its own ports inbound: the list plus 15020,15021,15090, deduplicated.
std::string exclude_inbound(std::string v) {
  v = trim(v);
  if (!v.empty() && v.back() != ',') v += ",";
  v += "15020,15021,15090";
  std::vector<std::string> seen;
  for (const std::string& p : split_all(v, ','))
    if (std::find(seen.begin(), seen.end(), p) == seen.end()) seen.push_back(p);
  return ports(fmt::format("{}", fmt::join(seen, ",")));
}

bool env_bool(const PodInfo& pod, const char* name, Redirect& out) {
  auto it = pod.proxy_env.find(name);
  if (it == pod.proxy_env.end()) return false;
  auto b = parse_bool(it->second);
  if (!b.ok())
    out.warnings.push_back(fmt::format("cannot parse {}=\"{}\": taken as false", name, it->second));
  return b.ok() && b.value;
}

std::string id_or_default(const std::optional<int64_t>& id) {
  return id && *id != 0 ? std::to_string(*id) : "1337";
}

// The annotations behind the redirect's lists, in the order of kParams.
enum Slot : size_t {
  kIncludeOutboundCidrs,
  kExcludeOutboundCidrs,
  kIncludeInboundPorts,
  kExcludeInboundPorts,
  kIncludeOutboundPorts,
  kExcludeOutboundPorts,
  kExcludeInterfaces,
  kRerouteInterfaces,   // istio.io/reroute-virtual-interfaces
  kKubevirtInterfaces,  // its deprecated name, read only when the new one is absent
  kSlots
};

const AnnotationParam kParams[kSlots] = {
    {"traffic.sidecar.istio.io/includeOutboundIPRanges", "*", Kind::cidrs_or_star},
    {"traffic.sidecar.istio.io/excludeOutboundIPRanges", "", Kind::cidrs},
    {"traffic.sidecar.istio.io/includeInboundPorts", "*", Kind::ports_or_star},
    {"traffic.sidecar.istio.io/excludeInboundPorts", "15020", Kind::ports_or_star},
    {"traffic.sidecar.istio.io/includeOutboundPorts", "", Kind::ports_or_star},
    {"traffic.sidecar.istio.io/excludeOutboundPorts", "15020", Kind::ports_or_star},
    {"traffic.sidecar.istio.io/excludeInterfaces", "", Kind::interfaces},
    {"istio.io/reroute-virtual-interfaces", "", Kind::interfaces},
    {"traffic.sidecar.istio.io/kubevirtInterfaces", "", Kind::interfaces}};

}  // namespace

std::string skip_reason(const PodInfo& pod) {
  if (pod.containers.count("istio-init")) return "it already has an istio-init container";
  if (auto it = pod.proxy_env.find("DISABLE_ENVOY"); it != pod.proxy_env.end())
    if (auto b = parse_bool(it->second); b.ok() && b.value)
      return "DISABLE_ENVOY is set on istio-proxy";
  if (!pod.containers.count("istio-proxy")) return "it has no istio-proxy container";
  if (!pod.proxy_type.empty() && pod.proxy_type != "sidecar")
    return fmt::format("its proxy type is {}", pod.proxy_type);
  std::string inject;
  if (auto it = pod.annotations.find("sidecar.istio.io/inject"); it != pod.annotations.end())
    inject = it->second;
  if (auto it = pod.labels.find("sidecar.istio.io/inject"); it != pod.labels.end())
    inject = it->second;
  if (auto b = parse_bool(inject); !inject.empty() && b.ok() && !b.value)
    return "injection is disabled";
  if (!pod.annotations.count("sidecar.istio.io/status"))
    return "it has no sidecar.istio.io/status annotation";
  return "";
}

Status redirect_flags(const PodInfo& pod, Redirect& out) {
  static const AnnotationParam kMode{"sidecar.istio.io/interceptionMode", "REDIRECT", Kind::mode};
  std::string mode, v[kSlots];
  bool found = false, reroute_found = false;
  if (Status s = annotation(pod, kMode, mode, found); !s.ok()) return s;
  for (size_t i = 0; i < kSlots; ++i) {
    if (i == kKubevirtInterfaces && reroute_found) break;
    if (Status s = annotation(pod, kParams[i], v[i], found); !s.ok()) return s;
    if (i == kRerouteInterfaces) reroute_found = found;
  }
  out.flags = {"-p", "15001",
               "-u", id_or_default(pod.proxy_uid),
               "-g", id_or_default(pod.proxy_gid),
               "-m", mode,
               "-i", v[kIncludeOutboundCidrs],
               "-x", v[kExcludeOutboundCidrs],
               "-b", ports(v[kIncludeInboundPorts]),
               "-d", exclude_inbound(v[kExcludeInboundPorts]),
               "-q", ports(v[kIncludeOutboundPorts]),
               "-o", ports(v[kExcludeOutboundPorts]),
               "-c", ports(v[kExcludeInterfaces]),
               "-k", ports(reroute_found ? v[kRerouteInterfaces] : v[kKubevirtInterfaces])};
  const bool dns = env_bool(pod, "ISTIO_META_DNS_CAPTURE", out);
  const bool dual = env_bool(pod, "ISTIO_DUAL_STACK", out);
  const bool drop = env_bool(pod, "INVALID_DROP", out);
  for (auto [flag, on] : {std::pair{"--redirect-dns", dns},
                          {"--capture-all-dns", dns},
                          {"--drop-invalid", drop},
                          {"--dual-stack", dual}})
    out.flags.push_back(fmt::format("{}={}", flag, on ? "true" : "false"));
  return Status::Ok();
}

}  // namespace snare::cni
