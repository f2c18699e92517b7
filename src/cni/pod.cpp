// The pod fields istio-cni reads (see pod.h).
#include "cni/pod.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace snare::cni {
namespace {

using nlohmann::json;

std::map<std::string, std::string> string_map(const json& j) {
  std::map<std::string, std::string> out;
  if (j.is_object())
    for (const auto& [k, v] : j.items())
      if (v.is_string()) out[k] = v.get<std::string>();
  return out;
}

std::optional<int64_t> id_of(const json& ctx, const char* key) {
  if (!ctx.is_object() || !ctx.contains(key) || !ctx[key].is_number_integer()) return std::nullopt;
  return ctx[key].get<int64_t>();
}

void read_proxy(const json& c, PodInfo& out) {
  for (const json& e : c.value("env", json::array()))
    if (e.contains("name")) out.proxy_env[e["name"].get<std::string>()] = e.value("value", "");
  const json args = c.value("args", json::array());
  if (args.size() >= 2 && args[0] == "proxy" && args[1].is_string())
    out.proxy_type = args[1].get<std::string>();
  const json ctx = c.value("securityContext", json::object());
  out.proxy_uid = id_of(ctx, "runAsUser");
  out.proxy_gid = id_of(ctx, "runAsGroup");
}

}  // namespace

Status parse_pod(const std::string& text, PodInfo& out) {
  json pod = json::parse(text, nullptr, false);
  if (pod.is_discarded() || !pod.is_object())
    return Status::Fail("the API server's answer is not a JSON object");
  if (pod.value("kind", "Pod") != "Pod")
    return Status::Fail(
        fmt::format("the API server answered with a {}, not a Pod", pod.value("kind", "?")));
  try {
    const json meta = pod.value("metadata", json::object());
    out.labels = string_map(meta.value("labels", json::object()));
    out.annotations = string_map(meta.value("annotations", json::object()));
    const json spec = pod.value("spec", json::object());
    for (const char* list : {"initContainers", "containers"})
      for (const json& c : spec.value(list, json::array())) {
        const std::string name = c.value("name", "");
        out.containers.insert(name);
        if (name == "istio-proxy") read_proxy(c, out);
      }
  } catch (const json::exception& e) {
    return Status::Fail(fmt::format("the pod object does not parse: {}", e.what()));
  }
  return Status::Ok();
}

}  // namespace snare::cni
