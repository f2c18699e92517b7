// The Boost.Beast KubeApi (see kube_api.h): HTTP/1.1 to the kubeconfig's server, over TLS
// (OpenSSL through asio's ssl::stream) for https:// and plain TCP for http://.
#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "cni/beast_http.h"
#include "cni/kube_api.h"
#include "cni/server_url.h"

namespace snare::cni {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using namespace web;
using std::chrono::milliseconds;

// The TLS side of the kubeconfig, set up once: the CA (data, file, or the system's), or no
// check at all with insecure-skip-tls-verify; the client certificate. What is wrong here (a CA
// that is not PEM, a missing CA file, a key that is not the certificate's) cannot get better.
Status setup_tls(const KubeConfig& c, ssl::context& ctx) {
  error_code ec;
  auto failed = [&](const char* what) {
    return Status::Fail(fmt::format("{}: {}", what, ec.message()));
  };
  if (c.insecure_skip_tls_verify) {
    ctx.set_verify_mode(ssl::verify_none, ec);
  } else {
    ctx.set_verify_mode(ssl::verify_peer, ec);
    if (!c.ca_pem.empty()) {
      if (ctx.add_certificate_authority(asio::buffer(c.ca_pem), ec); ec)
        return failed("certificate-authority-data is not a PEM certificate");
    } else if (!c.ca_file.empty()) {
      // OpenSSL's error for a file it cannot open has no text: the file is tried first.
      if (::access(c.ca_file.c_str(), R_OK) != 0)
        return Status::Fail(
            fmt::format("cannot read the CA file {}: {}", c.ca_file, errno_text(errno)));
      if (ctx.load_verify_file(c.ca_file, ec); ec)
        return Status::Fail(
            fmt::format("the CA file {} holds no PEM certificate: {}", c.ca_file, ec.message()));
    } else if (ctx.set_default_verify_paths(ec); ec) {
      return failed("cannot read the system's CA certificates");
    }
  }
  if (!c.client_cert_pem.empty()) {
    if (ctx.use_certificate_chain(asio::buffer(c.client_cert_pem), ec); ec)
      return failed("client-certificate-data is not a PEM certificate");
    if (ctx.use_private_key(asio::buffer(c.client_key_pem), ssl::context::pem, ec); ec)
      return failed("client-key-data is not the certificate's PEM key");
  }
  return Status::Ok();
}

// Which name the server is asked for (SNI, for a host name only) and must prove in its
// certificate: the host name, or the IP address, as Go's client checks them.
void name_peer(SSL* ssl, const ServerUrl& u, bool verify) {
  if (!u.host_is_ip) SSL_set_tlsext_host_name(ssl, u.host.c_str());
  if (!verify) return;
  if (u.host_is_ip)
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), u.host.c_str());
  else
    SSL_set1_host(ssl, u.host.c_str());
}

// What a name lookup left: the addresses or the error, once `done`.
struct Lookup {
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  error_code ec;
  std::vector<tcp::endpoint> found;
};

// The server's addresses: its IP address, or what its name resolves to. glibc's lookup cannot be
// interrupted, so it runs in a thread of its own that is left behind when `timeout` passes (as
// curl's threaded resolver is): the ADD's time limit holds when DNS does not answer. False when
// the time ran out.
bool resolve_within(const ServerUrl& u, milliseconds timeout, std::vector<tcp::endpoint>& found,
                    error_code& ec) {
  if (u.host_is_ip) {
    found = {tcp::endpoint(asio::ip::make_address(u.host),
                           static_cast<unsigned short>(std::stoi(u.port)))};
    return true;
  }
  auto lookup = std::make_shared<Lookup>();
  std::thread([lookup, host = u.host, port = u.port] {
    asio::io_context io;
    tcp::resolver resolver(io);
    error_code failed;
    const auto results = resolver.resolve(host, port, failed);
    const std::lock_guard lock(lookup->m);
    lookup->ec = failed;
    for (const auto& r : results) lookup->found.push_back(r.endpoint());
    lookup->done = true;
    lookup->cv.notify_all();
  }).detach();
  std::unique_lock lock(lookup->m);
  if (!lookup->cv.wait_for(lock, timeout, [&] { return lookup->done; })) return false;
  ec = lookup->ec;
  found = lookup->found;
  return true;
}

// Connects `sock` to each address in turn until one answers, then `next()`; a failure ends with
// `finish`.
template <class Next, class Finish>
void connect(tcp::socket& sock, const std::vector<tcp::endpoint>& to, Next next, Finish finish) {
  asio::async_connect(sock, to, [next, finish](error_code ec, const tcp::endpoint&) {
    if (ec) return finish(Ending{ec, "connect"});
    next();
  });
}

// The answer, or why there is none: the cap, a certificate the CA does not sign or that names
// another host (not asked again), the time, or the socket's error.
KubeResponse answer(const std::string& url, const Ending& end, bool in_time, long verify,
                    Parser& parser, milliseconds timeout) {
  KubeResponse r;
  if (end.ec == http::error::body_limit) {
    r.transport_error = fmt::format("{}: the answer is larger than {} MiB, which no pod object is",
                                    url, kMaxBodyBytes >> 20);
    r.permanent = true;
  } else if (!in_time) {
    r.transport_error = fmt::format("{}: {}: no answer within {} ms", url, end.step,
                                    static_cast<long>(timeout.count()));
  } else if (end.ec && verify != X509_V_OK) {
    r.transport_error = fmt::format("{}: {}: the server's certificate is refused: {}", url,
                                    end.step, X509_verify_cert_error_string(verify));
    r.permanent = true;
  } else if (end.ec) {
    r.transport_error = fmt::format("{}: {}: {}", url, end.step, end.ec.message());
  } else {
    r.status = parser.get().result_int();
    r.body = std::move(parser.get().body());
  }
  return r;
}

// OpenSSL without the node's openssl.cnf: the plugin's TLS is what this file sets, and a
// configuration naming providers or engines must not load code into it. Nor its clean-up at exit:
// a plugin process asks once and ends, and freeing every table OpenSSL built was 5% of an ADD's
// CPU.
ssl::context client_context() {
  OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_CONFIG | OPENSSL_INIT_NO_ATEXIT, nullptr);
  return ssl::context(ssl::context::tls_client);
}

class BeastKubeApi : public KubeApi {
 public:
  explicit BeastKubeApi(KubeConfig config) : config_(std::move(config)), tls_(client_context()) {
    setup_ = parse_server_url(config_.server, url_);
    if (setup_.ok() && url_.tls) setup_ = setup_tls(config_, tls_);
  }

  KubeResponse get(const std::string& path, milliseconds timeout) override {
    const std::string url = config_.server + path;
    if (!setup_.ok()) return {0, "", fmt::format("{}: {}", url, setup_.error), true};
    try {
      return exchange(path, url, timeout);
    } catch (const std::exception& e) {
      // asio throws only where it cannot report otherwise (no memory, no thread).
      return {0, "", fmt::format("{}: {}", url, e.what()), false};
    }
  }

 private:
  KubeResponse exchange(const std::string& path, const std::string& url, milliseconds timeout) {
    Parser parser;
    parser.body_limit(kMaxBodyBytes);
    const auto start = std::chrono::steady_clock::now();
    std::vector<tcp::endpoint> to;
    error_code ec;
    if (!resolve_within(url_, timeout, to, ec) || ec)
      return answer(url, Ending{ec, "resolve the host"}, !!ec, X509_V_OK, parser, timeout);
    const auto left = timeout - std::chrono::duration_cast<milliseconds>(
                                    std::chrono::steady_clock::now() - start);
    asio::io_context io;
    Request req{http::verb::get, url_.prefix + path, 11};
    req.set(http::field::host, url_.authority);
    req.set(http::field::accept, "application/json");
    if (!config_.token.empty()) req.set(http::field::authorization, "Bearer " + config_.token);
    boost::beast::flat_buffer buf;
    Ending end;
    auto finish = [&end](Ending e) { end = e; };
    long verify = X509_V_OK;
    bool in_time;
    if (url_.tls) {
      ssl::stream<tcp::socket> s(io, tls_);
      name_peer(s.native_handle(), url_, !config_.insecure_skip_tls_verify);
      auto handshake = [&] {
        s.async_handshake(ssl::stream_base::client, [&](error_code e) {
          if (e) return finish(Ending{e, "TLS handshake"});
          send_and_read(s, req, buf, parser, finish);
        });
      };
      connect(s.next_layer(), to, handshake, finish);
      in_time = run_within(io, std::max(left, milliseconds(0)), [&] { stop(s.next_layer()); });
      if (!config_.insecure_skip_tls_verify) verify = SSL_get_verify_result(s.native_handle());
    } else {
      tcp::socket s(io);
      connect(
          s, to, [&] { send_and_read(s, req, buf, parser, finish); }, finish);
      in_time = run_within(io, std::max(left, milliseconds(0)), [&] { stop(s); });
    }
    return answer(url, end, in_time, verify, parser, timeout);
  }

  static void stop(tcp::socket& s) {
    error_code ignored;
    s.close(ignored);
  }

  KubeConfig config_;
  ssl::context tls_;
  ServerUrl url_;
  Status setup_;
};

}  // namespace

std::unique_ptr<KubeApi> make_kube_api(const KubeConfig& config) {
  return std::make_unique<BeastKubeApi>(config);
}

}  // namespace snare::cni
