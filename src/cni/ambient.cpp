// istio-cni's ambient hand-off without I/O (see ambient.h).
#include "cni/ambient.h"

#include <fmt/format.h>

#include <algorithm>

namespace snare::cni {

const char* const kDefaultEnablementSelectors =
    R"([{"podSelector":{"matchLabels":{"istio.io/dataplane-mode":"ambient"}}},)"
    R"({"podSelector":{"matchExpressions":[{"key":"istio.io/dataplane-mode","operator":"NotIn",)"
    R"("values":["none"]}]},"namespaceSelector":{"matchLabels":{"istio.io/dataplane-mode":"ambient"}}}])";

namespace {

using nlohmann::ordered_json;
using Labels = std::map<std::string, std::string>;

void type_error(const std::string& where, const char* want) {
  throw std::invalid_argument(fmt::format("enablement_selectors: {} is not {}", where, want));
}

void check_label_selector(const ordered_json& s, const std::string& where) {
  if (s.is_null()) return;
  if (!s.is_object()) type_error(where, "an object");
  if (s.contains("matchLabels") && !s["matchLabels"].is_null()) {
    if (!s["matchLabels"].is_object()) type_error(where + ".matchLabels", "an object");
    for (const auto& [k, v] : s["matchLabels"].items())
      if (!v.is_string()) type_error(where + ".matchLabels." + k, "a string");
  }
  if (!s.contains("matchExpressions") || s["matchExpressions"].is_null()) return;
  if (!s["matchExpressions"].is_array()) type_error(where + ".matchExpressions", "a list");
  for (const ordered_json& e : s["matchExpressions"]) {
    if (!e.is_object()) type_error(where + ".matchExpressions[]", "an object");
    for (const char* k : {"key", "operator"})
      if (e.contains(k) && !e[k].is_null() && !e[k].is_string())
        type_error(where + ".matchExpressions[]." + k, "a string");
    if (!e.contains("values") || e["values"].is_null()) continue;
    if (!e["values"].is_array()) type_error(where + ".matchExpressions[].values", "a list");
    for (const ordered_json& v : e["values"])
      if (!v.is_string()) type_error(where + ".matchExpressions[].values[]", "a string");
  }
}

std::string str(const ordered_json& o, const char* key) {
  return o.contains(key) && o[key].is_string() ? o[key].get<std::string>() : "";
}

std::vector<std::string> values(const ordered_json& e) {
  std::vector<std::string> out;
  if (e.contains("values") && e["values"].is_array())
    for (const ordered_json& v : e["values"]) out.push_back(v.get<std::string>());
  return out;
}

// One requirement of k8s' LabelSelector, refused as k8s refuses it (the operator, the values).
Status match_expression(const ordered_json& e, const Labels& labels, bool& match) {
  const std::string key = str(e, "key"), op = str(e, "operator");
  const std::vector<std::string> vs = values(e);
  const auto it = labels.find(key);
  const bool has = it != labels.end();
  const bool in = has && std::find(vs.begin(), vs.end(), it->second) != vs.end();
  if (key.empty()) return Status::Fail("enablement_selectors: a matchExpression has no key");
  if (op == "In" || op == "NotIn") {
    if (vs.empty())
      return Status::Fail(fmt::format(
          "enablement_selectors: {}: for 'in', 'notin' operators, values set can't be empty", key));
    match = op == "In" ? in : !in;  // NotIn also matches a pod without the label
  } else if (op == "Exists" || op == "DoesNotExist") {
    if (!vs.empty())
      return Status::Fail(fmt::format(
          "enablement_selectors: {}: values set must be empty for exists and does not exist", key));
    match = op == "Exists" ? has : !has;
  } else {
    return Status::Fail(fmt::format(
        "enablement_selectors: {}: \"{}\" is not a valid label selector operator", key, op));
  }
  return Status::Ok();
}

// k8s' LabelSelector on `labels`: all matchLabels and all matchExpressions; empty matches all.
Status selector_matches(const ordered_json& s, const Labels& labels, bool& match) {
  match = true;
  if (!s.is_object()) return Status::Ok();
  if (s.contains("matchLabels") && s["matchLabels"].is_object())
    for (const auto& [k, v] : s["matchLabels"].items()) {
      const auto it = labels.find(k);
      if (it == labels.end() || it->second != v.get<std::string>()) match = false;
    }
  if (s.contains("matchExpressions") && s["matchExpressions"].is_array())
    for (const ordered_json& e : s["matchExpressions"]) {
      bool one = false;
      if (Status st = match_expression(e, labels, one); !st.ok()) return st;
      match = match && one;
    }
  return Status::Ok();
}

}  // namespace

void check_selector_types(const ordered_json& selectors) {
  if (selectors.is_null()) return;
  if (!selectors.is_array()) type_error("the value", "a list");
  for (const ordered_json& s : selectors) {
    if (!s.is_object()) type_error("an element", "an object");
    check_label_selector(s.value("podSelector", ordered_json()), "podSelector");
    check_label_selector(s.value("namespaceSelector", ordered_json()), "namespaceSelector");
  }
}

Status is_ambient_pod(const PodInfo& pod, const Labels& ns_labels, const ordered_json& selectors,
                      bool& ambient) {
  ambient = false;
  // Every selector is checked (a bad one is an error even after a match), as istio compiles them
  // all before matching.
  bool any = false;
  for (const ordered_json& s : selectors.is_array() ? selectors : ordered_json::array()) {
    bool pod_match = false, ns_match = false;
    if (Status st = selector_matches(s.value("podSelector", ordered_json()), pod.labels, pod_match);
        !st.ok())
      return st;
    if (Status st =
            selector_matches(s.value("namespaceSelector", ordered_json()), ns_labels, ns_match);
        !st.ok())
      return st;
    any = any || (pod_match && ns_match);
  }
  ambient = any && !pod.annotations.count("sidecar.istio.io/status");
  return Status::Ok();
}

Status object_labels(const std::string& json_text, Labels& labels) {
  const ordered_json j = ordered_json::parse(json_text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Status::Fail("the namespace is not JSON");
  const ordered_json meta = j.value("metadata", ordered_json::object());
  if (!meta.is_object() || !meta.contains("labels") || !meta["labels"].is_object())
    return Status::Ok();
  for (const auto& [k, v] : meta["labels"].items())
    if (v.is_string()) labels[k] = v.get<std::string>();
  return Status::Ok();
}

}  // namespace snare::cni
