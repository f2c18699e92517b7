// Connection: one relayed TCP connection (client <-> original destination) and the byte pump.
//
// Two halves move bytes one way each: half 0 client -> upstream, half 1 upstream -> client. A half
// copies through the worker's scratch buffer until a read fills it, then splices through a pooled
// pipe for the rest of the connection: small request/response messages are cheaper copied,
// bulk streams cheaper spliced (bench/proxy/README.md). Readiness is cached per socket
// because epoll is edge-triggered: a side stays `readable` until a read says EAGAIN, `writable`
// until a write does. A half that cannot write stops reading (backpressure); its bytes wait in the
// pipe, or in a heap buffer of exactly the unsent size, never both.
#pragma once

#include <cstdint>
#include <memory>

#include "proxy/listener.h"
#include "proxy/original_dst.h"
#include "proxy/pipe_pool.h"
#include "proxy/sock_addr.h"
#include "proxy/stats.h"

namespace snare::proxy {

struct Half {
  std::unique_ptr<char[]> pend;  // copied bytes the destination has not taken yet
  uint32_t pend_off = 0;
  uint32_t pend_len = 0;
  Pipe pipe;
  uint32_t in_pipe = 0;
  uint64_t bytes = 0;
  bool splice = false;  // this half has switched to splice
  bool eof = false;     // the source sent FIN
  bool shut = false;    // FIN passed on with shutdown(SHUT_WR)
  bool done() const { return shut && pend_len == 0 && in_pipe == 0; }
};

enum class ConnState : uint8_t { connecting, established, closed };

struct Conn {
  int fd[2] = {-1, -1};  // 0: client, 1: upstream
  bool readable[2] = {false, false};
  bool writable[2] = {false, false};
  bool rdhup[2] = {false, false};  // the peer's FIN is known to be queued
  ConnState state = ConnState::connecting;
  Direction direction = Direction::outbound;
  DstSource dst_source = DstSource::none;
  uint8_t depth = 0;   // LoopGuard depth
  uint32_t index = 0;  // position in the worker's connection list
  int64_t start_ms = 0;
  int64_t last_ms = 0;
  Half half[2];
  SockAddr client;
  SockAddr dst;
  SockAddr upstream_local;  // registered in the LoopGuard
};

// What the worker lends the pump.
struct PumpContext {
  char* scratch = nullptr;
  uint32_t scratch_size = 0;
  PipePool* pipes = nullptr;
  bool splice_allowed = true;  // --splice != never
  bool splice_first = false;   // --splice=always
  uint32_t pipe_size = 1 << 20;
  WorkerStats* stats = nullptr;
};

enum class PumpResult : uint8_t {
  ok,
  src_failed,  // reading from the source failed: reset the destination
  dst_failed,  // writing to the destination failed: reset the source
};

// Moves bytes of half `s` (0 or 1) until a side would block or the half is finished.
// `err` receives the errno of a failure.
PumpResult pump(Conn& c, int s, PumpContext& ctx, int* err);

}  // namespace snare::proxy
