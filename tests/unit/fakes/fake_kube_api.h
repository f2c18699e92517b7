// FakeKubeApi: canned answers of an API server, per path, in order; records the requests and the
// deadline each was given.
#pragma once

#include <deque>
#include <functional>
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
  std::vector<std::chrono::milliseconds>* timeouts = nullptr;
  // Called with the request's timeout when the answer is "no answer" (status 0, not permanent):
  // a server that never answers uses up the whole deadline on a test's clock.
  std::function<void(std::chrono::milliseconds)> elapse;

  KubeResponse get(const std::string& path, std::chrono::milliseconds timeout) override {
    if (requests) requests->push_back(path);
    if (timeouts) timeouts->push_back(timeout);
    auto it = answers.find(path);
    if (it == answers.end() || it->second.empty()) return {404, R"({"message":"not found"})", ""};
    KubeResponse r = it->second.front();
    if (it->second.size() > 1) it->second.pop_front();
    if (r.status == 0 && !r.permanent && elapse) elapse(timeout);
    return r;
  }
};

}  // namespace snare::cni::testing
