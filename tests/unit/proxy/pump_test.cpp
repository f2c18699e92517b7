// The byte pump on socketpairs: order, half-close, copy -> splice switch, reset reporting.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "proxy/connection.h"

using namespace snare::proxy;

namespace {

struct Rig {
  int client_app = -1, upstream_app = -1;  // the far ends (the test plays app and server)
  Conn c;
  PipePool pipes{1 << 16};
  std::vector<char> scratch = std::vector<char>(64 * 1024);
  WorkerStats stats;
  PumpContext ctx;

  explicit Rig(bool splice_allowed = true) {
    int a[2], b[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, a) == 0);
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, b) == 0);
    client_app = a[0];
    c.fd[0] = a[1];
    upstream_app = b[0];
    c.fd[1] = b[1];
    c.state = ConnState::established;
    ctx.scratch = scratch.data();
    ctx.scratch_size = static_cast<uint32_t>(scratch.size());
    ctx.pipes = &pipes;
    ctx.splice_allowed = splice_allowed;
    ctx.pipe_size = 1 << 16;
    ctx.stats = &stats;
  }
  ~Rig() {
    for (int fd : {client_app, upstream_app, c.fd[0], c.fd[1]}) close(fd);
    for (Half& h : c.half) pipes.put(h.pipe, false);
  }
  // One turn of an event loop that saw every event: both sides readable and writable.
  PumpResult turn() {
    for (int s = 0; s < 2; ++s) {
      c.readable[s] = c.writable[s] = c.rdhup[s] = true;
    }
    for (int s = 0; s < 2; ++s) {
      int err = 0;
      PumpResult r = pump(c, s, ctx, &err);
      if (r != PumpResult::ok) return r;
    }
    return PumpResult::ok;
  }
};

// Reads what is there; returns false at EOF.
bool drain(int fd, std::string* into) {
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
      into->append(buf, static_cast<size_t>(n));
      continue;
    }
    return n != 0;
  }
}

std::string pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return s;
}

}  // namespace

TEST_CASE("pump relays both ways in order and passes a half-close on", "[proxy][pump]") {
  const bool splice_allowed = GENERATE(true, false);
  Rig rig(splice_allowed);
  const std::string request = pattern(3 * 1000 * 1000 + 17);
  const std::string response = pattern(2 * 1000 * 1000 + 5);
  size_t req_off = 0, resp_off = 0;
  bool client_shut = false, upstream_shut = false, upstream_eof = false, client_eof = false;
  std::string got_req, got_resp;
  for (int i = 0; i < 100000 && !(upstream_eof && client_eof); ++i) {
    if (req_off < request.size()) {
      ssize_t n = write(rig.client_app, request.data() + req_off, request.size() - req_off);
      if (n > 0) req_off += static_cast<size_t>(n);
    } else if (!client_shut) {
      shutdown(rig.client_app, SHUT_WR);  // the client half-closes early...
      client_shut = true;
    }
    REQUIRE(rig.turn() == PumpResult::ok);
    if (!upstream_eof) upstream_eof = !drain(rig.upstream_app, &got_req);
    // ...and the server answers only after it has seen the whole request and the FIN.
    if (upstream_eof && resp_off < response.size()) {
      ssize_t n = write(rig.upstream_app, response.data() + resp_off, response.size() - resp_off);
      if (n > 0) resp_off += static_cast<size_t>(n);
    } else if (upstream_eof && !upstream_shut) {
      shutdown(rig.upstream_app, SHUT_WR);
      upstream_shut = true;
    }
    REQUIRE(rig.turn() == PumpResult::ok);
    if (!client_eof) client_eof = !drain(rig.client_app, &got_resp);
  }
  CHECK(got_req.size() == request.size());
  CHECK(got_req == request);
  CHECK(got_resp.size() == response.size());
  CHECK(got_resp == response);
  CHECK(rig.c.half[0].done());
  CHECK(rig.c.half[1].done());
  CHECK(rig.c.half[0].bytes == request.size());
  CHECK(rig.c.half[1].bytes == response.size());
  // Bulk switched to splice when allowed; nothing is held once idle.
  CHECK(rig.c.half[0].splice == splice_allowed);
  CHECK_FALSE(rig.c.half[0].pipe.valid());
  CHECK_FALSE(rig.c.half[1].pipe.valid());
  CHECK(rig.c.half[0].pend == nullptr);
}

TEST_CASE("small messages are copied, not spliced", "[proxy][pump]") {
  Rig rig;
  for (int i = 0; i < 50; ++i) {
    REQUIRE(write(rig.client_app, "GET / HTTP/1.1\r\n\r\n", 18) == 18);
    REQUIRE(rig.turn() == PumpResult::ok);
    std::string got;
    drain(rig.upstream_app, &got);
    REQUIRE(got == "GET / HTTP/1.1\r\n\r\n");
  }
  CHECK_FALSE(rig.c.half[0].splice);
  CHECK(rig.stats.copied_bytes.load() == 50 * 18);
  CHECK(rig.stats.spliced_bytes.load() == 0);
}

TEST_CASE("backpressure: a blocked destination stops reading and keeps the bytes",
          "[proxy][pump]") {
  Rig rig(false);
  const std::string data = pattern(4 * 1000 * 1000);
  size_t off = 0;
  for (int i = 0; i < 200; ++i) {
    ssize_t n = write(rig.client_app, data.data() + off, data.size() - off);
    if (n > 0) off += static_cast<size_t>(n);
    rig.turn();
  }
  // Nobody reads upstream: the relay holds at most one read's worth, the rest waits in the
  // client's socket.
  CHECK(rig.c.half[0].pend_len <= 64 * 1024);
  CHECK(off < data.size());
  std::string got;
  for (int i = 0; i < 100000 && got.size() < data.size(); ++i) {
    if (off < data.size()) {
      ssize_t n = write(rig.client_app, data.data() + off, data.size() - off);
      if (n > 0) off += static_cast<size_t>(n);
    }
    rig.turn();
    drain(rig.upstream_app, &got);
  }
  CHECK(got == data);
}

TEST_CASE("a write to a closed destination is reported as dst_failed", "[proxy][pump]") {
  Rig rig;
  close(rig.upstream_app);
  rig.upstream_app = -1;
  REQUIRE(write(rig.client_app, "hello", 5) == 5);
  rig.c.readable[0] = rig.c.writable[1] = true;
  int err = 0;
  CHECK(pump(rig.c, 0, rig.ctx, &err) == PumpResult::dst_failed);
  CHECK(err == EPIPE);
}
