// FakeCniAgent: istio-cni's node agent on its socket, as a canned answer; records each POST.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "cni/cni_agent.h"

namespace snare::cni::testing {

struct AgentPost {
  std::string socket, path, body;
  std::chrono::milliseconds timeout;
};

class FakeCniAgent : public CniAgent {
 public:
  AgentResponse answer{200, "", ""};
  std::vector<AgentPost>* posts = nullptr;

  AgentResponse post(const std::string& socket_path, const std::string& path,
                     const std::string& body, std::chrono::milliseconds timeout) override {
    if (posts) posts->push_back({socket_path, path, body, timeout});
    return answer;
  }
};

}  // namespace snare::cni::testing
