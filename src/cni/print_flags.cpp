// `snare-cni print-flags`: the snare flags a pod's rules come from, read from the API server as
// the plugin reads them, for `snare verify` from the node.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdio>

#include "base/log.h"
#include "cni/ambient.h"
#include "cni/kube_api.h"
#include "cni/plugin.h"

namespace snare::cni {
namespace {

// One shell word: as is when it is safe, else in single quotes.
std::string shell_word(const std::string& w) {
  if (!w.empty() && w.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                        "0123456789-_=./:,@") == std::string::npos)
    return w;
  std::string out = "'";
  for (char c : w) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct Options {
  std::string kubeconfig = "/var/run/istio-cni/istio-cni-kubeconfig", ns, pod;
  std::string selectors = kDefaultEnablementSelectors;
  bool nftables = false;
};

bool parse(const std::vector<std::string>& args, Options& o, std::string& err) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string& into) {
      if (i + 1 >= args.size()) return (err = a + " needs a value", false);
      return (into = args[++i], true);
    };
    if (a == "--native-nftables") {
      o.nftables = true;
    } else if (a == "--kubeconfig" || a == "--namespace" || a == "--pod") {
      if (!value(a == "--kubeconfig" ? o.kubeconfig : a == "--namespace" ? o.ns : o.pod))
        return false;
    } else if (a == "--enablement-selectors") {
      if (!value(o.selectors)) return false;
    } else {
      return (err = fmt::format("unknown argument \"{}\"", a), false);
    }
  }
  if (o.ns.empty() || o.pod.empty()) return (err = "--namespace and --pod are needed", false);
  try {
    const auto selectors = nlohmann::ordered_json::parse(o.selectors, nullptr, false);
    if (selectors.is_discarded()) throw std::invalid_argument("not JSON");
    check_selector_types(selectors);
  } catch (const std::exception& e) {
    return (err = fmt::format("--enablement-selectors \"{}\": {}", o.selectors, e.what()), false);
  }
  return true;
}

// For a pod without a sidecar: whether the enablement selectors make it ambient (the namespace
// read from the API server), and then its `snare ambient` flags. False when it is not ambient.
bool ambient_pod_flags(KubeApi& api, const Options& o, const std::string& pod_json,
                       std::vector<std::string>& flags, std::string& err) {
  PodInfo pod;
  std::map<std::string, std::string> ns_labels;
  const auto selectors = nlohmann::ordered_json::parse(o.selectors);  // checked by parse()
  if (Status s = parse_pod(pod_json, pod);
      !s.ok() || pod.annotations.count("sidecar.istio.io/status"))
    return false;
  KubeResponse r = api.get("/api/v1/namespaces/" + o.ns, std::chrono::seconds(5));
  if (r.status != 200)
    return (err = fmt::format(
                "GET namespace {}: {}", o.ns,
                r.transport_error.empty() ? fmt::format("HTTP {}", r.status) : r.transport_error),
            false);
  bool ambient = false;
  Status s = object_labels(r.body, ns_labels);
  if (s.ok()) s = is_ambient_pod(pod, ns_labels, selectors, ambient);
  if (!s.ok()) return (err = s.error, false);
  if (ambient) flags = ambient_flags(pod);
  return ambient;
}

}  // namespace

int print_flags(const std::vector<std::string>& args) {
  Options o;
  std::string err;
  if (!parse(args, o, err)) return (log_error("snare-cni print-flags: {}", err), 2);
  KubeConfig kc;
  if (Status s = load_kubeconfig(o.kubeconfig, kc); !s.ok())
    return (log_error("snare-cni print-flags: {}", s.error), 1);
  auto api = make_kube_api(kc);
  KubeResponse r =
      api->get(fmt::format("/api/v1/namespaces/{}/pods/{}", o.ns, o.pod), std::chrono::seconds(5));
  if (r.status != 200) {
    log_error("snare-cni print-flags: GET pod {}/{}: {}", o.ns, o.pod,
              r.transport_error.empty() ? fmt::format("HTTP {}", r.status) : r.transport_error);
    return 1;
  }
  std::vector<std::string> flags;
  std::string skip;
  const bool ambient = ambient_pod_flags(*api, o, r.body, flags, err);
  if (!err.empty()) return (log_error("snare-cni print-flags: {}", err), 1);
  if (ambient) {
    log_info(
        "pod {}/{} is ambient: these are `snare ambient` flags (the agent's own settings, "
        "--dns-capture, --enable-ipv6 and the probe addresses, are snare's defaults = helm's)",
        o.ns, o.pod);
  } else if (Status s = pod_flags(r.body, flags, skip); !s.ok()) {
    return (log_error("snare-cni print-flags: {}", s.error), 1);
  } else if (!skip.empty()) {
    return (log_info("the plugin leaves this pod alone: {}", skip), 0);
  }
  if (o.nftables) flags.push_back("--native-nftables");
  std::vector<std::string> words;
  for (const std::string& f : flags) words.push_back(shell_word(f));
  std::printf("%s\n", fmt::format("{}", fmt::join(words, " ")).c_str());
  return 0;
}

}  // namespace snare::cni
