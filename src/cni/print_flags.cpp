// `snare-cni print-flags`: the snare flags a pod's rules come from, read from the API server as
// the plugin reads them, for `snare verify` from the node.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdio>

#include "base/log.h"
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
    } else {
      return (err = fmt::format("unknown argument \"{}\"", a), false);
    }
  }
  if (o.ns.empty() || o.pod.empty()) return (err = "--namespace and --pod are needed", false);
  return true;
}

}  // namespace

int print_flags(const std::vector<std::string>& args) {
  Options o;
  std::string err;
  if (!parse(args, o, err)) return (log_error("snare-cni print-flags: {}", err), 2);
  KubeConfig kc;
  if (Status s = load_kubeconfig(o.kubeconfig, kc); !s.ok())
    return (log_error("snare-cni print-flags: {}", s.error), 1);
  KubeResponse r = make_curl_kube_api(kc)->get(
      fmt::format("/api/v1/namespaces/{}/pods/{}", o.ns, o.pod), std::chrono::seconds(5));
  if (r.status != 200) {
    log_error("snare-cni print-flags: GET pod {}/{}: {}", o.ns, o.pod,
              r.transport_error.empty() ? fmt::format("HTTP {}", r.status) : r.transport_error);
    return 1;
  }
  std::vector<std::string> flags;
  std::string skip;
  if (Status s = pod_flags(r.body, flags, skip); !s.ok())
    return (log_error("snare-cni print-flags: {}", s.error), 1);
  if (!skip.empty()) return (log_info("the plugin leaves this pod alone: {}", skip), 0);
  if (o.nftables) flags.push_back("--native-nftables");
  std::vector<std::string> words;
  for (const std::string& f : flags) words.push_back(shell_word(f));
  std::printf("%s\n", fmt::format("{}", fmt::join(words, " ")).c_str());
  return 0;
}

}  // namespace snare::cni
