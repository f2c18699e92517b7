// The CNI protocol's inputs (see netconf.h).
#include "cni/netconf.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <regex>

#include "base/parse.h"
#include "cni/ambient.h"

namespace snare::cni {
namespace {

using nlohmann::ordered_json;

// The CNI library's network name rule (utils.ValidateNetworkName).
bool valid_network_name(const std::string& name) {
  static const std::regex kName("^[a-zA-Z0-9][a-zA-Z0-9_.\\-]*$");
  return std::regex_match(name, kName);
}

// istio-cni's keys, with Go's json.Unmarshal type checks: a key of the wrong type is an error.
void read_istio_keys(const ordered_json& j, NetConf& c) {
  auto str = [&](const char* k, std::string& v) {
    if (j.contains(k) && !j[k].is_null()) v = j[k].get<std::string>();
  };
  auto boolean = [&](const char* k, bool& v) {
    if (j.contains(k) && !j[k].is_null()) v = j[k].get<bool>();
  };
  str("type", c.type);
  str("plugin_log_level", c.plugin_log_level);
  str("cni_agent_run_dir", c.cni_agent_run_dir);
  str("pod_namespace", c.pod_namespace);
  boolean("ambient_enabled", c.ambient_enabled);
  boolean("native_nftables", c.native_nftables);
  boolean("enable_ambient_detection_retry", c.enable_ambient_detection_retry);
  if (j.contains("enablement_selectors") && !j["enablement_selectors"].is_null()) {
    check_selector_types(j["enablement_selectors"]);
    c.enablement_selectors = j["enablement_selectors"];
  }
  if (j.contains("exclude_namespaces") && !j["exclude_namespaces"].is_null())
    c.exclude_namespaces = j["exclude_namespaces"].get<std::vector<std::string>>();
  if (j.contains("snare_add_timeout_seconds") && !j["snare_add_timeout_seconds"].is_null()) {
    const ordered_json& t = j["snare_add_timeout_seconds"];
    if (!t.is_number() || !(t.get<double>() > 0 && t.get<double>() <= kMaxAddTimeoutSeconds))
      throw std::invalid_argument(fmt::format(
          "snare_add_timeout_seconds must be a number of seconds above 0 and at most {}",
          kMaxAddTimeoutSeconds));
    c.add_timeout = std::chrono::milliseconds(
        std::max<int64_t>(1, static_cast<int64_t>(t.get<double>() * 1000)));
  }
  if (j.contains("prevResult") && !j["prevResult"].is_null()) {
    if (!j["prevResult"].is_object()) throw std::invalid_argument("prevResult is not an object");
    // Its version is printed back as the result's: it must be a version's text.
    if (j["prevResult"].contains("cniVersion") && !j["prevResult"]["cniVersion"].is_string())
      throw std::invalid_argument("prevResult's cniVersion is not a string");
    c.prev_result = j["prevResult"];
  }
}

// One line of JSON. Bytes that are not UTF-8 (in an environment variable, a kubeconfig, an error
// page cut inside a character) become U+FFFD instead of making dump() throw.
std::string dump(const ordered_json& j) {
  return j.dump(-1, ' ', false, ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace

const std::vector<std::string>& supported_versions() {
  static const std::vector<std::string> kAll = {"0.1.0", "0.2.0", "0.3.0", "0.3.1",
                                                "0.4.0", "1.0.0", "1.1.0"};
  return kAll;
}

bool parse_netconf(const std::string& text, NetConf& out, CniError& err) {
  ordered_json j = ordered_json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    err = {kErrDecodingFailure, "error unmarshall network config: stdin is not a JSON object", ""};
    return false;
  }
  if (!j.contains("name") || !j["name"].is_string() || j["name"].get<std::string>().empty()) {
    err = {kErrInvalidNetworkConfig, "missing network name", ""};
    return false;
  }
  out.name = j["name"].get<std::string>();
  if (!valid_network_name(out.name)) {
    err = {kErrInvalidNetworkConfig, "invalid characters found in network name", out.name};
    return false;
  }
  if (j.contains("cniVersion") && j["cniVersion"].is_string())
    out.cni_version = j["cniVersion"].get<std::string>();
  const std::string v = out.cni_version.empty() ? "0.1.0" : out.cni_version;
  const auto& all = supported_versions();
  if (std::find(all.begin(), all.end(), v) == all.end()) {
    err = {kErrIncompatibleVersion, "incompatible CNI versions",
           fmt::format("config is \"{}\", plugin supports [\"{}\"]", v, fmt::join(all, "\" \""))};
    return false;
  }
  try {
    read_istio_keys(j, out);
  } catch (const std::exception& e) {
    err = {kErrInternal, fmt::format("failed to parse network configuration: {}", e.what()), ""};
    return false;
  }
  return true;
}

bool parse_k8s_args(const std::string& args, K8sArgs& out, std::string& err) {
  if (args.empty()) return true;
  bool ignore_unknown = false;
  std::vector<std::string> unknown;
  for (const std::string& pair : split_all(args, ';')) {
    const size_t eq = pair.find('=');
    if (eq == std::string::npos || pair.find('=', eq + 1) != std::string::npos) {
      err = fmt::format("ARGS: invalid pair \"{}\"", pair);
      return false;
    }
    const std::string k = pair.substr(0, eq), v = pair.substr(eq + 1);
    if (k == "K8S_POD_NAME") {
      out.pod_name = v;
    } else if (k == "K8S_POD_NAMESPACE") {
      out.pod_namespace = v;
    } else if (k == "IgnoreUnknown") {
      auto b = parse_bool(v);
      if (!b.ok()) {
        err = fmt::format("ARGS: error parsing value of pair \"{}\": {}", pair, b.error);
        return false;
      }
      ignore_unknown = b.value;
    } else if (k != "K8S_POD_INFRA_CONTAINER_ID" && k != "K8S_POD_UID") {
      unknown.push_back(pair);
    }
  }
  if (!unknown.empty() && !ignore_unknown) {
    err = fmt::format("ARGS: unknown args [{}]", fmt::join(unknown, " "));
    return false;
  }
  return true;
}

std::string result_text(const NetConf& conf) {
  const std::string v = conf.cni_version.empty() ? "0.1.0" : conf.cni_version;
  ordered_json r = conf.prev_result.is_object() ? conf.prev_result : ordered_json::object();
  if (!r.contains("cniVersion")) r["cniVersion"] = v;
  return dump(r);
}

std::string error_text(const CniError& e, const std::string& conf_version) {
  ordered_json j;
  j["cniVersion"] = conf_version.empty() ? supported_versions().back() : conf_version;
  j["code"] = e.code;
  j["msg"] = e.msg;
  if (!e.details.empty()) j["details"] = e.details;
  return dump(j);
}

std::string valid_utf8(const std::string& s) {
  const std::string quoted =
      ordered_json(s).dump(-1, ' ', false, ordered_json::error_handler_t::replace);
  return ordered_json::parse(quoted).get<std::string>();
}

std::string version_text() {
  ordered_json j;
  j["cniVersion"] = supported_versions().back();
  j["supportedVersions"] = supported_versions();
  return dump(j);
}

}  // namespace snare::cni
