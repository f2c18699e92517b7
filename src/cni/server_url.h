// The kubeconfig's `server` split into what a connection needs: scheme, host, port, and the path
// prefix that goes before every API path (a proxy in front of the API server may add one).
#pragma once

#include <string>

#include "base/status.h"

namespace snare::cni {

struct ServerUrl {
  bool tls = true;        // https (else http)
  std::string host;       // a name or an IP address, without an IPv6 address's brackets
  std::string port;       // "443" when the URL gives none (80 for http)
  std::string authority;  // host[:port] as written: the Host header
  std::string prefix;     // "" or "/some/prefix", never ending in '/'
  bool host_is_ip = false;
};

// Only https:// and http:// URLs with a host; no user, query or fragment. The error names the
// URL and what is wrong with it.
Status parse_server_url(const std::string& url, ServerUrl& out);

}  // namespace snare::cni
