// PluginRig: the plugin's PluginDeps wired to fakes (FakeKubeApi, FakeCniAgent, an apply that
// records its flags, a test clock that sleeps and silent API servers move on) and one CNI_* env,
// for the CNI tests to drive run_plugin and read back what it asked, posted and applied.
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cni/plugin.h"
#include "fakes/fake_cni_agent.h"
#include "fakes/fake_kube_api.h"

namespace snare::cni::testing {

// The netconf keys every CNI test starts from, up to the point where a test adds its own.
inline const std::string kNetconfHead =
    R"({"cniVersion":"1.0.0","name":"k8s","type":"istio-cni","cni_agent_run_dir":"/r",)"
    R"("exclude_namespaces":["kube-system"],"pod_namespace":"istio-system")";

struct PluginRig {
  using Answers = std::map<std::string, std::deque<KubeResponse>>;

  // Each fake API server made starts from a copy of `answers`.
  Answers answers;
  std::vector<std::string> requests;
  std::vector<std::chrono::milliseconds> timeouts;
  std::chrono::steady_clock::time_point clock{};
  std::vector<AgentPost> posts;
  AgentResponse agent_answer{200, "", ""};
  std::vector<std::vector<std::string>> applied;
  // Non-zero: the apply fails with this exit code and a kernel-like reason.
  int apply_rc = 0;
  int sleeps = 0;
  PluginDeps deps;
  CniEnv env;
  // run()'s stdin: netconf_head, the test's extra keys, then prevResult.
  std::string netconf_head, prev_result;

  PluginRig(Answers a, CniEnv e, std::string head, std::string prev)
      : answers(std::move(a)),
        env(std::move(e)),
        netconf_head(std::move(head)),
        prev_result(std::move(prev)) {
    deps.load_kubeconfig = [](const std::string&, KubeConfig& k) {
      return (k.server = "https://x", Status::Ok());
    };
    deps.make_api = [this](const KubeConfig&) {
      auto api = std::make_unique<FakeKubeApi>();
      api->answers = answers;
      api->requests = &requests;
      api->timeouts = &timeouts;
      api->elapse = [this](std::chrono::milliseconds ms) { clock += ms; };
      return api;
    };
    deps.make_agent = [this] {
      auto agent = std::make_unique<FakeCniAgent>();
      agent->answer = agent_answer;
      agent->posts = &posts;
      return agent;
    };
    deps.apply = [this](const std::vector<std::string>& f, std::string& err) {
      applied.push_back(f);
      if (apply_rc) err = "commit nat (ipv4): Invalid argument";
      return apply_rc;
    };
    deps.sleep = [this](std::chrono::milliseconds ms) { ++sleeps, clock += ms; };
    deps.now = [this] { return clock; };
  }
  // The fakes hold `this`: a copy would report into the original.
  PluginRig(const PluginRig&) = delete;
  PluginRig& operator=(const PluginRig&) = delete;

  int run(const std::string& extra, std::string& out) {
    return run_plugin(env, netconf_head + extra + R"(,"prevResult":)" + prev_result + "}", deps,
                      out);
  }
};

}  // namespace snare::cni::testing
