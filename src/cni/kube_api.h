// KubeApi: the seam between the plugin and the Kubernetes API server. The real one is an HTTPS
// client (Boost.Beast on OpenSSL) configured from the kubeconfig; tests/unit has a fake with
// canned answers.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "cni/kubeconfig.h"

namespace snare::cni {

struct KubeResponse {
  long status = 0;  // HTTP status; 0 when no answer came
  std::string body;
  std::string transport_error;  // why no answer came (connection refused, TLS, timeout)
  // The failure cannot get better by asking again (an unknown CA, a name not in the server's
  // certificate, a missing CA file, a server URL that is not http(s), an answer over the cap).
  bool permanent = false;
};

// The most of an answer's body that is read: a pod object is a few KiB; more is not an API server.
constexpr size_t kMaxBodyBytes = 4 << 20;

class KubeApi {
 public:
  virtual ~KubeApi() = default;
  // GET server + path (`/api/v1/namespaces/NS/pods/NAME`), giving up after `timeout` (connect,
  // TLS and answer together).
  virtual KubeResponse get(const std::string& path, std::chrono::milliseconds timeout) = 0;
};

// HTTP/1.1 (Boost.Beast) over TLS (OpenSSL), with the kubeconfig's CA (or none with
// insecure-skip-tls-verify), bearer token or client certificate; failures are sorted into
// permanent and transient ones.
std::unique_ptr<KubeApi> make_kube_api(const KubeConfig& config);

}  // namespace snare::cni
