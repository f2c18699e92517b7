// The libcurl KubeApi (see kube_api.h).
#include <curl/curl.h>
#include <fmt/format.h>

#include "cni/kube_api.h"

namespace snare::cni {
namespace {

size_t append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// A PEM in memory for curl's *_BLOB options (the kubeconfig carries them as data, not files).
curl_blob blob(const std::string& pem) {
  return curl_blob{const_cast<char*>(pem.data()), pem.size(), CURL_BLOB_COPY};
}

class CurlKubeApi : public KubeApi {
 public:
  explicit CurlKubeApi(KubeConfig config) : config_(std::move(config)) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
  }
  ~CurlKubeApi() override { curl_global_cleanup(); }

  KubeResponse get(const std::string& path) override {
    KubeResponse r;
    CURL* c = curl_easy_init();
    if (!c) return {0, "", "curl_easy_init failed"};
    char err[CURL_ERROR_SIZE] = "";
    curl_slist* headers = curl_slist_append(nullptr, "Accept: application/json");
    if (!config_.token.empty())
      headers = curl_slist_append(headers, ("Authorization: Bearer " + config_.token).c_str());
    const std::string url = config_.server + path;
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, append);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
    tls(c);
    const CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK)
      r.transport_error = fmt::format("{}: {}", url, err[0] ? err : curl_easy_strerror(rc));
    else
      curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
    return r;
  }

 private:
  void tls(CURL* c) {
    if (config_.insecure_skip_tls_verify) {
      curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    } else if (!config_.ca_pem.empty()) {
      curl_blob ca = blob(config_.ca_pem);
      curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &ca);
    } else if (!config_.ca_file.empty()) {
      curl_easy_setopt(c, CURLOPT_CAINFO, config_.ca_file.c_str());
    }
    if (!config_.client_cert_pem.empty()) {
      curl_blob cert = blob(config_.client_cert_pem), key = blob(config_.client_key_pem);
      curl_easy_setopt(c, CURLOPT_SSLCERT_BLOB, &cert);
      curl_easy_setopt(c, CURLOPT_SSLKEY_BLOB, &key);
    }
  }

  KubeConfig config_;
};

}  // namespace

std::unique_ptr<KubeApi> make_curl_kube_api(const KubeConfig& config) {
  return std::make_unique<CurlKubeApi>(config);
}

}  // namespace snare::cni
