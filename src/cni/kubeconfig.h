// The kubeconfig istio-cni writes for its plugin (<cni_agent_run_dir>/istio-cni-kubeconfig):
// the current context's cluster (server, CA) and user (bearer token or client certificate), read
// with yaml-cpp. The fields client-go's DefaultRestConfig would use for that file; exec plugins
// and auth providers are refused by name.
#pragma once

#include <string>

#include "base/status.h"

namespace snare::cni {

struct KubeConfig {
  std::string server;   // "https://10.96.0.1:443"
  std::string ca_pem;   // certificate-authority-data, decoded
  std::string ca_file;  // certificate-authority
  bool insecure_skip_tls_verify = false;
  std::string token;                            // token, or the contents of tokenFile
  std::string client_cert_pem, client_key_pem;  // client-certificate-data / client-key-data
};

// Parses a kubeconfig's text; `path` only names the file in errors.
Status parse_kubeconfig(const std::string& yaml_text, const std::string& path, KubeConfig& out);

// Reads and parses the file.
Status load_kubeconfig(const std::string& path, KubeConfig& out);

}  // namespace snare::cni
