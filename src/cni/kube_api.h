// KubeApi: the seam between the plugin and the Kubernetes API server. The real one is an HTTPS
// client (libcurl) configured from the kubeconfig; tests/unit has a fake with canned answers.
#pragma once

#include <memory>
#include <string>

#include "cni/kubeconfig.h"

namespace snare::cni {

struct KubeResponse {
  long status = 0;  // HTTP status; 0 when no answer came
  std::string body;
  std::string transport_error;  // why no answer came (connection refused, TLS, timeout)
};

class KubeApi {
 public:
  virtual ~KubeApi() = default;
  // GET server + path (`/api/v1/namespaces/NS/pods/NAME`).
  virtual KubeResponse get(const std::string& path) = 0;
};

// libcurl, with the kubeconfig's CA (or none with insecure-skip-tls-verify), bearer token or
// client certificate, and a 5 s deadline per request.
std::unique_ptr<KubeApi> make_curl_kube_api(const KubeConfig& config);

}  // namespace snare::cni
