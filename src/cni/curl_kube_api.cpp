// The libcurl KubeApi (see kube_api.h).
#include <curl/curl.h>
#include <fmt/format.h>

#include "cni/kube_api.h"

namespace snare::cni {
namespace {

// The body so far, and whether it went over kMaxBodyBytes.
struct Body {
  std::string text;
  bool too_big = false;
};

// curl's write callback: appends up to the cap; past it, returning less than given makes curl
// stop with CURLE_WRITE_ERROR.
size_t append(char* data, size_t size, size_t n, void* out) {
  Body& b = *static_cast<Body*>(out);
  if (b.text.size() + size * n > kMaxBodyBytes) return (b.too_big = true, 0);
  b.text.append(data, size * n);
  return size * n;
}

// Failures that asking again cannot mend: the URL, the CA or the certificates are wrong, or the
// local files are missing. Everything else (refused, reset, timed out, DNS) may pass.
bool permanent(CURLcode rc) {
  switch (rc) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_FILESIZE_EXCEEDED:
      return true;
    default:
      return false;
  }
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

  KubeResponse get(const std::string& path, std::chrono::milliseconds timeout) override {
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
    Body body;
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout.count()));
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(kMaxBodyBytes));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
    tls(c);
    const CURLcode rc = curl_easy_perform(c);
    if (body.too_big || rc == CURLE_FILESIZE_EXCEEDED) {
      r.transport_error = fmt::format(
          "{}: the answer is larger than {} MiB, which no pod object is", url, kMaxBodyBytes >> 20);
      r.permanent = true;
    } else if (rc != CURLE_OK) {
      r.transport_error = fmt::format("{}: {}", url, err[0] ? err : curl_easy_strerror(rc));
      r.permanent = permanent(rc);
    } else {
      curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
      r.body = std::move(body.text);
    }
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
