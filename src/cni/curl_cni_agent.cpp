// The libcurl CniAgent (see cni_agent.h): HTTP/1.1 over a unix socket.
#include <curl/curl.h>
#include <fmt/format.h>

#include "cni/cni_agent.h"

namespace snare::cni {
namespace {

// curl's write callback: keeps the first kMaxAgentBodyBytes and drops the rest (the body is only
// an error's text), so a long answer still ends with its status.
size_t keep(char* data, size_t size, size_t n, void* out) {
  std::string& body = *static_cast<std::string*>(out);
  if (body.size() < kMaxAgentBodyBytes)
    body.append(data, std::min(size * n, kMaxAgentBodyBytes - body.size()));
  return size * n;
}

class CurlCniAgent : public CniAgent {
 public:
  CurlCniAgent() { curl_global_init(CURL_GLOBAL_DEFAULT); }
  ~CurlCniAgent() override { curl_global_cleanup(); }

  AgentResponse post(const std::string& socket_path, const std::string& path,
                     const std::string& body, std::chrono::milliseconds timeout) override {
    AgentResponse r;
    CURL* c = curl_easy_init();
    if (!c) return {0, "", "curl_easy_init failed"};
    char err[CURL_ERROR_SIZE] = "";
    curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
    // No "Expect: 100-continue" round trip: the agent answers the request as a whole.
    headers = curl_slist_append(headers, "Expect:");
    // The host part is not used for routing (the socket is); istio's client sends "unix" too.
    const std::string url = "http://unix" + path;
    curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, socket_path.c_str());
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout.count()));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
    const CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
      r.transport_error = fmt::format("Post \"{}\" (socket {}): {}", url, socket_path,
                                      err[0] ? err : curl_easy_strerror(rc));
      r.body.clear();
    } else {
      curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
    return r;
  }
};

}  // namespace

std::unique_ptr<CniAgent> make_curl_cni_agent() { return std::make_unique<CurlCniAgent>(); }

}  // namespace snare::cni
