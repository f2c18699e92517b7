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

// The string at `key` of object `j`, "" when absent or not a string (the API server's own objects
// always have strings there; anything else must not throw).
std::string str_at(const json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

// The member `key` of object `j` when it has the type `is` checks, else `fallback`.
json member(const json& j, const char* key, bool (json::*is)() const noexcept, json fallback) {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  return it != j.end() && ((*it).*is)() ? *it : fallback;
}

std::optional<int64_t> id_of(const json& ctx, const char* key) {
  if (!ctx.is_object() || !ctx.contains(key) || !ctx[key].is_number_integer()) return std::nullopt;
  return ctx[key].get<int64_t>();
}

void read_proxy(const json& c, PodInfo& out) {
  for (const json& e : member(c, "env", &json::is_array, json::array()))
    if (e.is_object() && e.contains("name") && e["name"].is_string())
      out.proxy_env[e["name"].get<std::string>()] = str_at(e, "value");
  const json args = member(c, "args", &json::is_array, json::array());
  if (args.size() >= 2 && args[0] == "proxy" && args[1].is_string())
    out.proxy_type = args[1].get<std::string>();
  const json ctx = member(c, "securityContext", &json::is_object, json::object());
  out.proxy_uid = id_of(ctx, "runAsUser");
  out.proxy_gid = id_of(ctx, "runAsGroup");
}

}  // namespace

Status parse_pod(const std::string& text, PodInfo& out) {
  json pod = json::parse(text, nullptr, false);
  if (pod.is_discarded() || !pod.is_object())
    return Status::Fail("the API server's answer is not a JSON object");
  // A kind that is not a string is no Pod either (its text is shown as JSON).
  if (const json kind = pod.contains("kind") ? pod["kind"] : json("Pod"); kind != "Pod")
    return Status::Fail(
        fmt::format("the API server answered with a {}, not a Pod",
                    kind.is_string() ? kind.get<std::string>()
                                     : kind.dump(-1, ' ', false, json::error_handler_t::replace)));
  try {
    const json meta = member(pod, "metadata", &json::is_object, json::object());
    out.labels = string_map(member(meta, "labels", &json::is_object, json::object()));
    out.annotations = string_map(member(meta, "annotations", &json::is_object, json::object()));
    const json spec = member(pod, "spec", &json::is_object, json::object());
    for (const char* list : {"initContainers", "containers"})
      for (const json& c : member(spec, list, &json::is_array, json::array())) {
        const std::string name = str_at(c, "name");
        out.containers.insert(name);
        if (name == "istio-proxy") read_proxy(c, out);
      }
  } catch (const json::exception& e) {
    return Status::Fail(fmt::format("the pod object does not parse: {}", e.what()));
  }
  return Status::Ok();
}

}  // namespace snare::cni
