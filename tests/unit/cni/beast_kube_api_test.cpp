// The real KubeApi without an API server: what the kubeconfig gets wrong is a permanent error
// before any connection; a refused connection and a server that never answers are transient, and
// the second ends at the deadline. (The root tests cni_plugin and cni_timeouts run it against the
// stand-in HTTPS server.)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>

#include "cni/kube_api.h"

using namespace snare::cni;
using std::chrono::milliseconds;

namespace {

KubeResponse get_from(KubeConfig c, milliseconds timeout = milliseconds(2000)) {
  return make_kube_api(c)->get("/api/v1/namespaces/ns/pods/p", timeout);
}

// A TCP socket listening on 127.0.0.1 that nobody accepts on: the kernel completes the
// connection, and nothing ever answers. Its port, or 0.
struct Silent {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int port = 0;
  Silent() {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && listen(fd, 8) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
      port = ntohs(a.sin_port);
  }
  ~Silent() { close(fd); }
};

}  // namespace

TEST_CASE("kube api: a kubeconfig no client can use fails at once, naming why", "[cni]") {
  KubeConfig c;
  c.server = "ftp://10.96.0.1";
  KubeResponse r = get_from(c);
  CHECK(r.status == 0);
  CHECK(r.permanent);
  CHECK_THAT(r.transport_error, Catch::Contains("is neither https:// nor http://"));
  c.server = "https://10.96.0.1:443";
  c.ca_pem = "not a certificate";
  r = get_from(c);
  CHECK(r.permanent);
  CHECK_THAT(r.transport_error, Catch::StartsWith("https://10.96.0.1:443/api/v1/namespaces/ns/"));
  CHECK_THAT(r.transport_error, Catch::Contains("certificate-authority-data is not a PEM"));
  c.ca_pem.clear();
  c.ca_file = "/nonexistent/ca.crt";
  r = get_from(c);
  CHECK(r.permanent);
  CHECK_THAT(r.transport_error, Catch::Contains("cannot read the CA file /nonexistent/ca.crt"));
}

TEST_CASE("kube api: a refused connection may pass, so it is not permanent", "[cni]") {
  Silent closed;  // a port that was bound and is closed again refuses
  REQUIRE(closed.port != 0);
  KubeConfig c;
  c.server = "https://127.0.0.1:" + std::to_string(closed.port);
  close(closed.fd);
  closed.fd = -1;
  const KubeResponse r = get_from(c);
  CHECK(r.status == 0);
  CHECK(!r.permanent);
  CHECK_THAT(r.transport_error, Catch::Contains("connect: Connection refused"));
}

TEST_CASE("kube api: a server that never answers ends at the deadline, transient", "[cni]") {
  Silent silent;
  REQUIRE(silent.port != 0);
  KubeConfig c;
  c.server = "https://127.0.0.1:" + std::to_string(silent.port);
  const auto start = std::chrono::steady_clock::now();
  const KubeResponse r = get_from(c, milliseconds(300));
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK(r.status == 0);
  CHECK(!r.permanent);
  CHECK_THAT(r.transport_error, Catch::Contains("TLS handshake: no answer within 300 ms"));
  CHECK(took >= milliseconds(290));
  CHECK(took < milliseconds(2000));
}
