// The worker's accept path and relay over FakeSocketpairCalls: a redirected connection is relayed
// to its original destination and back, and the refusals (not redirected, own listener, refused,
// overload) end the client's connection and are counted under their reason. Root tests
// (tests/root/proxy_*.sh) repeat this with real REDIRECT and TPROXY rules.
#include "proxy/worker.h"

#include <poll.h>

#include <catch2/catch.hpp>
#include <string>
#include <thread>

#include "fakes/fake_socketpair_calls.h"

using namespace snare::proxy;
using snare::proxy::testing::FakeSocketpairCalls;

namespace {

SockAddr addr(const char* text) { return *SockAddr::parse(text); }

// Waits up to 2 s for `fd` to become readable; reads what is there ("" at EOF).
bool read_some(int fd, std::string& out) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 2000) != 1) return false;
  char buf[4096];
  ssize_t n = ::read(fd, buf, sizeof buf);
  if (n < 0) return false;
  out.assign(buf, static_cast<size_t>(n));
  return true;
}

bool wait_for(const std::function<bool()>& done) {
  for (int i = 0; i < 200 && !done(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return done();
}

uint64_t ended(const WorkerStats& s, EndReason r) { return s.ended[static_cast<int>(r)].load(); }

// A worker on one fake outbound listener (0.0.0.0:15001), running on its own thread.
struct Rig {
  FakeSocketpairCalls net;
  LoopGuard guard;
  WorkerConfig config;
  std::unique_ptr<Worker> worker;
  std::thread thread;

  Rig() {
    config.own_ports = {15001, 15006};
    config.splice = SpliceMode::never;
    config.drain_timeout = std::chrono::milliseconds(200);
    config.access_log = false;
    net.listener_addr = addr("127.0.0.1:15001");
  }
  void start() {
    worker = std::make_unique<Worker>(0, config, &guard, net);
    Listener l;
    l.fd = net.listener_fd();
    l.spec.addr = addr("0.0.0.0:15001");
    l.spec.direction = Direction::outbound;
    REQUIRE(worker->init({l}).ok());
    thread = std::thread([this] { worker->run(); });
  }
  ~Rig() {
    if (thread.joinable()) {
      worker->drain();
      thread.join();
    }
  }
  const WorkerStats& stats() const { return worker->stats(); }
};

}  // namespace

TEST_CASE("a redirected connection is relayed to its original destination and back") {
  Rig rig;
  rig.net.orig_dst = addr("10.0.0.1:80");
  rig.start();
  const int app = rig.net.queue_client();
  REQUIRE(wait_for([&] { return rig.net.server(0) >= 0; }));
  const int server = rig.net.server(0);
  REQUIRE(::write(app, "GET /", 5) == 5);
  std::string got;
  REQUIRE(read_some(server, got));
  CHECK(got == "GET /");
  REQUIRE(::write(server, "200", 3) == 3);
  REQUIRE(read_some(app, got));
  CHECK(got == "200");
  // Both sides finish: the relay passes each FIN on and ends the connection as eof.
  ::shutdown(app, SHUT_WR);
  REQUIRE(read_some(server, got));
  CHECK(got.empty());
  ::shutdown(server, SHUT_WR);
  REQUIRE(read_some(app, got));
  CHECK(got.empty());
  REQUIRE(wait_for([&] { return ended(rig.stats(), EndReason::eof) == 1; }));
  CHECK(rig.stats().bytes_up[0].load() == 5);
  CHECK(rig.stats().bytes_down[0].load() == 3);
  CHECK(rig.stats().active[0].load() == 0);
}

TEST_CASE("a connection without an original destination is closed, no upstream opened") {
  Rig rig;  // orig_dst empty: SO_ORIGINAL_DST fails, the local address is the listener's
  rig.start();
  const int app = rig.net.queue_client();
  std::string got = "x";
  REQUIRE(read_some(app, got));
  CHECK(got.empty());
  REQUIRE(wait_for([&] { return ended(rig.stats(), EndReason::not_redirected) == 1; }));
  CHECK(rig.net.sockets_made() == 0);
}

TEST_CASE("an original destination that is one of our listeners is a loop") {
  Rig rig;
  rig.net.orig_dst = addr("127.0.0.1:15006");
  rig.start();
  const int app = rig.net.queue_client();
  std::string got = "x";
  REQUIRE(read_some(app, got));
  CHECK(got.empty());
  REQUIRE(wait_for([&] { return ended(rig.stats(), EndReason::loop) == 1; }));
  CHECK(rig.net.sockets_made() == 0);
}

TEST_CASE("a refused upstream connect ends the client's connection as connect_refused") {
  Rig rig;
  rig.net.orig_dst = addr("10.0.0.1:81");
  rig.net.connect_errno = ECONNREFUSED;
  rig.start();
  const int app = rig.net.queue_client();
  std::string got = "x";
  REQUIRE(read_some(app, got));
  CHECK(got.empty());
  REQUIRE(wait_for([&] { return ended(rig.stats(), EndReason::connect_refused) == 1; }));
  // The upstream socket was closed too: its far end reads EOF.
  std::string far = "x";
  REQUIRE(read_some(rig.net.server(0), far));
  CHECK(far.empty());
}

TEST_CASE("no socket for the upstream is overload, and accepting pauses") {
  Rig rig;
  rig.net.orig_dst = addr("10.0.0.1:80");
  rig.net.socket_errno = EMFILE;
  rig.start();
  const int app = rig.net.queue_client();
  std::string got = "x";
  REQUIRE(read_some(app, got));
  CHECK(got.empty());
  REQUIRE(wait_for([&] { return ended(rig.stats(), EndReason::overload) == 1; }));
  CHECK(rig.stats().accept_paused.load() == 1);
}
