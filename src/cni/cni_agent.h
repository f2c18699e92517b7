// CniAgent: the seam between the plugin and istio-cni's node agent, which takes ambient pods over
// an HTTP POST on a unix socket. The real one is Boost.Beast; tests/unit has a fake that records.
#pragma once

#include <chrono>
#include <memory>
#include <string>

namespace snare::cni {

struct AgentResponse {
  long status = 0;  // HTTP status; 0 when no answer came
  std::string body;
  std::string transport_error;  // why no answer came (no socket, refused, timed out)
};

// The most of the agent's answer that is read (its error text); past it, only the status counts.
constexpr size_t kMaxAgentBodyBytes = 1 << 20;

class CniAgent {
 public:
  virtual ~CniAgent() = default;
  // POST `body` (JSON) to http://unix`path` over the unix socket `socket_path`, giving up after
  // `timeout` (connect, send and answer together). One attempt: the caller decides on retries.
  virtual AgentResponse post(const std::string& socket_path, const std::string& path,
                             const std::string& body, std::chrono::milliseconds timeout) = 0;
};

std::unique_ptr<CniAgent> make_cni_agent();

}  // namespace snare::cni
