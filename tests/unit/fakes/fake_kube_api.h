// FakeKubeApi: canned answers of an API server, per path, in order; records the requests.
#pragma once

#include <deque>
#include <map>
#include <string>
#include <vector>

#include "cni/kube_api.h"

namespace snare::cni::testing {

class FakeKubeApi : public KubeApi {
 public:
  // Answers for a path, one per request; the last one repeats.
  std::map<std::string, std::deque<KubeResponse>> answers;
  std::vector<std::string>* requests = nullptr;

  KubeResponse get(const std::string& path) override {
    if (requests) requests->push_back(path);
    auto it = answers.find(path);
    if (it == answers.end() || it->second.empty()) return {404, R"({"message":"not found"})", ""};
    KubeResponse r = it->second.front();
    if (it->second.size() > 1) it->second.pop_front();
    return r;
  }
};

}  // namespace snare::cni::testing
