// snare-cni's command line (see cni_cli.h).
#include "cni/cni_cli.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <thread>

#include "base/log.h"
#include "cli/cli.h"
#include "cli/composition.h"
#include "cni/plugin.h"

namespace snare::cni {
namespace {

const char* kUsage =
    "usage: istio-cni                 (CNI_COMMAND and the CNI variables set: the CNI plugin)\n"
    "       snare-cni print-flags [--kubeconfig FILE] --namespace NS --pod NAME "
    "[--native-nftables]\n"
    "                                 print the snare flags this pod's rules come from "
    "(kubeconfig\n"
    "                                 default: /var/run/istio-cni/istio-cni-kubeconfig)\n"
    "       snare-cni install --cni-bin-dir DIR [--watch]\n"
    "                                 install the plugin as DIR/istio-cni (see the README)\n";

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// Only the variables istio's plugin reads from its own environment (FillConfigFromEnvironment);
// the runtime's other variables must not turn into flags.
EnvLookup plugin_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    for (const char* allowed :
         {"ISTIO_OUTBOUND_OWNER_GROUPS", "ISTIO_OUTBOUND_OWNER_GROUPS_EXCLUDE",
          "ISTIO_OUTBOUND_IPV4_LOOPBACK_CIDR"})
      if (name == allowed)
        if (const char* v = std::getenv(allowed)) return std::string(v);
    return std::nullopt;
  };
}

PluginDeps real_deps() {
  PluginDeps d;
  d.load_kubeconfig = load_kubeconfig;
  d.make_api = make_curl_kube_api;
  d.sleep = [](std::chrono::milliseconds ms) { std::this_thread::sleep_for(ms); };
  d.apply = [](const std::vector<std::string>& flags, std::string& error) {
    std::vector<std::string> args = flags;
    args.insert(args.end(), {"--log_as_json"});
    const int rc = run_apply("istio-cni", args, plugin_env(), make_commands());
    if (rc != 0) error = log_last_error();
    return rc;
  };
  return d;
}

int plugin() {
  log_configure(LogLevel::info, true);
  CniEnv e{env("CNI_COMMAND"), env("CNI_CONTAINERID"), env("CNI_NETNS"),
           env("CNI_IFNAME"),  env("CNI_ARGS"),        env("CNI_PATH")};
  std::string input;
  if (e.command != "VERSION")
    input.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  PluginDeps deps = real_deps();
  std::string out;
  const int rc = run_plugin(e, input, deps, out);
  std::fputs(out.c_str(), stdout);
  std::fflush(stdout);
  return rc;
}

}  // namespace

int print_flags(const std::vector<std::string>& args);
int install(const std::vector<std::string>& args);

int cni_cli(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    if (env("CNI_COMMAND").empty()) {
      std::fputs(kUsage, stderr);
      return 2;
    }
    return plugin();
  }
  if (args[0] == "print-flags") return print_flags({args.begin() + 1, args.end()});
  if (args[0] == "install") return install({args.begin() + 1, args.end()});
  if (args[0] == "--help" || args[0] == "-h" || args[0] == "help")
    return (std::fputs(kUsage, stdout), 0);
  std::fprintf(stderr, "snare-cni: unknown command \"%s\"\n%s", args[0].c_str(), kUsage);
  return 2;
}

}  // namespace snare::cni
