// The byte pump (see connection.h).
#include "proxy/connection.h"

#include <fcntl.h>
#include <sys/socket.h>

#include <cstring>

#include "proxy/sys.h"

namespace snare::proxy {
namespace {

// Sends `data` to side d; keeps what was not taken in h.pend. False on a write error.
bool send_or_queue(Conn& c, Half& h, int d, const char* data, uint32_t n, int* err) {
  uint32_t sent = 0;
  if (c.writable[d]) {
    SysResult w = sys_send(c.fd[d], data, n);
    if (!w.ok()) {
      if (w.err != EAGAIN) {
        *err = w.err;
        return false;
      }
      c.writable[d] = false;
    } else {
      sent = static_cast<uint32_t>(w.rc);
      // Why: a short send means the socket buffer filled up (tcp_sendmsg returns early only then);
      // EPOLLOUT will fire when the peer acknowledges.
      if (sent < n) c.writable[d] = false;
    }
  }
  if (sent < n) {
    h.pend.reset(new char[n - sent]);
    std::memcpy(h.pend.get(), data + sent, n - sent);
    h.pend_off = 0;
    h.pend_len = n - sent;
  }
  return true;
}

}  // namespace

PumpResult pump(Conn& c, int s, PumpContext& ctx, int* err) {
  Half& h = c.half[s];
  const int d = 1 - s;
  const int src = c.fd[s];
  const int dst = c.fd[d];
  for (;;) {
    bool moved = false;
    // 1. What is already queued goes first: bytes must stay in order.
    if (h.pend_len > 0) {
      if (!c.writable[d]) return PumpResult::ok;
      SysResult w = sys_send(dst, h.pend.get() + h.pend_off, h.pend_len);
      if (!w.ok()) {
        if (w.err == EAGAIN) {
          c.writable[d] = false;
          return PumpResult::ok;
        }
        *err = w.err;
        return PumpResult::dst_failed;
      }
      h.pend_off += static_cast<uint32_t>(w.rc);
      h.pend_len -= static_cast<uint32_t>(w.rc);
      if (h.pend_len > 0) {
        c.writable[d] = false;
        return PumpResult::ok;
      }
      h.pend.reset();
      h.pend_off = 0;
    }
    if (h.in_pipe > 0 && c.writable[d]) {
      SysResult w = sys_splice(h.pipe.r, dst, h.in_pipe, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (!w.ok()) {
        if (w.err != EAGAIN) {
          *err = w.err;
          return PumpResult::dst_failed;
        }
        c.writable[d] = false;
      } else {
        h.in_pipe -= static_cast<uint32_t>(w.rc);
        moved = w.rc > 0;
      }
    }
    // An empty pipe goes back to the pool, so that an idle connection holds none.
    if (h.in_pipe == 0 && h.pipe.valid()) {
      ctx.pipes->put(h.pipe, true);
      h.pipe = Pipe{};
    }
    // 2. FIN from the source goes on once everything before it has been delivered.
    if (h.eof) {
      if (h.in_pipe > 0) return PumpResult::ok;  // EPOLLOUT brings us back
      if (!h.shut) {
        ::shutdown(dst, SHUT_WR);
        h.shut = true;
      }
      return PumpResult::ok;
    }
    if (!c.readable[s]) return PumpResult::ok;
    // 3. Read more.
    if (h.splice) {
      // Why: reading on while the pipe still holds bytes overlaps the two sockets' work (the
      // bench measured it); the pipe's size bounds what one connection buffers.
      if (h.in_pipe >= ctx.pipe_size) {
        if (moved) continue;
        return PumpResult::ok;
      }
      if (!h.pipe.valid()) {
        h.pipe = ctx.pipes->get();
        if (!h.pipe.valid()) {
          h.splice = false;  // out of fds: copying needs none
          continue;
        }
      }
      SysResult r =
          sys_splice(src, h.pipe.w, ctx.pipe_size - h.in_pipe, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (!r.ok()) {
        if (r.err != EAGAIN) {
          *err = r.err;
          return PumpResult::src_failed;
        }
        // EAGAIN means "socket empty" only when the pipe is empty: otherwise the pipe may be
        // full, and the socket must stay readable or the edge we already consumed is lost.
        if (h.in_pipe == 0) {
          c.readable[s] = false;
          continue;  // returns the pipe, then stops
        }
        if (moved) continue;
        return PumpResult::ok;
      }
      if (r.rc == 0) {
        h.eof = true;
        continue;
      }
      h.in_pipe += static_cast<uint32_t>(r.rc);
      h.bytes += static_cast<uint64_t>(r.rc);
      bump(ctx.stats->spliced_bytes, static_cast<uint64_t>(r.rc));
      continue;
    }
    if (h.in_pipe > 0) return PumpResult::ok;  // fell back from splice: drain the pipe first
    SysResult r = sys_recv(src, ctx.scratch, ctx.scratch_size);
    if (!r.ok()) {
      if (r.err == EAGAIN) {
        c.readable[s] = false;
        return PumpResult::ok;
      }
      *err = r.err;
      return PumpResult::src_failed;
    }
    if (r.rc == 0) {
      h.eof = true;
      continue;
    }
    const auto n = static_cast<uint32_t>(r.rc);
    h.bytes += n;
    bump(ctx.stats->copied_bytes, n);
    if (n == ctx.scratch_size && ctx.splice_allowed) h.splice = true;  // a bulk stream
    // Why: a short read drained the socket. Any later data or FIN raises a new edge, so the
    // EAGAIN-read that would confirm it is skipped, unless the FIN is already known to be queued.
    if (n < ctx.scratch_size && !c.rdhup[s]) c.readable[s] = false;
    if (!send_or_queue(c, h, d, ctx.scratch, n, err)) return PumpResult::dst_failed;
    if (h.pend_len > 0) return PumpResult::ok;
  }
}

}  // namespace snare::proxy
