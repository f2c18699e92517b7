// The byte pump (see connection.h).
#include "proxy/connection.h"

#include <fcntl.h>
#include <sys/socket.h>

#include <cstring>

#include "proxy/socket_calls.h"

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

// What a step of the pump says: go round again, stop until the next event, or a side failed.
enum class Next : uint8_t { again, stop, src_failed, dst_failed };

// 1. What is already queued goes first: bytes must stay in order.
Next flush_pending(Conn& c, Half& h, int d, int* err) {
  if (h.pend_len == 0) return Next::again;
  if (!c.writable[d]) return Next::stop;
  SysResult w = sys_send(c.fd[d], h.pend.get() + h.pend_off, h.pend_len);
  if (!w.ok()) {
    if (w.err != EAGAIN) {
      *err = w.err;
      return Next::dst_failed;
    }
    c.writable[d] = false;
    return Next::stop;
  }
  h.pend_off += static_cast<uint32_t>(w.rc);
  h.pend_len -= static_cast<uint32_t>(w.rc);
  if (h.pend_len > 0) {
    c.writable[d] = false;
    return Next::stop;
  }
  h.pend.reset();
  h.pend_off = 0;
  return Next::again;
}

// Spliced bytes waiting in the pipe go on; an empty pipe goes back to the pool, so that an idle
// connection holds none. `moved` says whether any byte left the pipe.
Next drain_pipe(Conn& c, Half& h, int d, PumpContext& ctx, bool& moved, int* err) {
  if (h.in_pipe > 0 && c.writable[d]) {
    SysResult w = sys_splice(h.pipe.r, c.fd[d], h.in_pipe, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (!w.ok()) {
      if (w.err != EAGAIN) {
        *err = w.err;
        return Next::dst_failed;
      }
      c.writable[d] = false;
    } else {
      h.in_pipe -= static_cast<uint32_t>(w.rc);
      moved = w.rc > 0;
    }
  }
  if (h.in_pipe == 0 && h.pipe.valid()) {
    ctx.pipes->put(h.pipe, true);
    h.pipe = Pipe{};
  }
  return Next::again;
}

// 3a. Bulk: from the socket into the pipe.
Next splice_in(Conn& c, Half& h, int s, PumpContext& ctx, bool moved, int* err) {
  // Why: reading on while the pipe still holds bytes overlaps the two sockets' work (the bench
  // measured it); the pipe's size bounds what one connection buffers.
  if (h.in_pipe >= ctx.pipe_size) return moved ? Next::again : Next::stop;
  if (!h.pipe.valid()) {
    h.pipe = ctx.pipes->get();
    if (!h.pipe.valid()) {
      h.splice = false;  // out of fds: copying needs none
      return Next::again;
    }
  }
  SysResult r =
      sys_splice(c.fd[s], h.pipe.w, ctx.pipe_size - h.in_pipe, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
  if (!r.ok()) {
    if (r.err != EAGAIN) {
      *err = r.err;
      return Next::src_failed;
    }
    // EAGAIN means "socket empty" only when the pipe is empty: otherwise the pipe may be full,
    // and the socket must stay readable or the edge we already consumed is lost.
    if (h.in_pipe == 0) {
      c.readable[s] = false;
      return Next::again;  // returns the pipe, then stops
    }
    return moved ? Next::again : Next::stop;
  }
  if (r.rc == 0) {
    h.eof = true;
    return Next::again;
  }
  h.in_pipe += static_cast<uint32_t>(r.rc);
  h.bytes += static_cast<uint64_t>(r.rc);
  bump(ctx.stats->spliced_bytes, static_cast<uint64_t>(r.rc));
  return Next::again;
}

// 3b. Small messages: through the scratch buffer, sent at once or queued.
Next copy_in(Conn& c, Half& h, int s, PumpContext& ctx, int* err) {
  if (h.in_pipe > 0) return Next::stop;  // fell back from splice: drain the pipe first
  SysResult r = sys_recv(c.fd[s], ctx.scratch, ctx.scratch_size);
  if (!r.ok()) {
    if (r.err != EAGAIN) {
      *err = r.err;
      return Next::src_failed;
    }
    c.readable[s] = false;
    return Next::stop;
  }
  if (r.rc == 0) {
    h.eof = true;
    return Next::again;
  }
  const auto n = static_cast<uint32_t>(r.rc);
  h.bytes += n;
  bump(ctx.stats->copied_bytes, n);
  if (n == ctx.scratch_size && ctx.splice_allowed) h.splice = true;  // a bulk stream
  // Why: a short read drained the socket. Any later data or FIN raises a new edge, so the
  // EAGAIN-read that would confirm it is skipped, unless the FIN is already known to be queued.
  if (n < ctx.scratch_size && !c.rdhup[s]) c.readable[s] = false;
  if (!send_or_queue(c, h, 1 - s, ctx.scratch, n, err)) return Next::dst_failed;
  return h.pend_len > 0 ? Next::stop : Next::again;
}

PumpResult result_of(Next n) {
  if (n == Next::src_failed) return PumpResult::src_failed;
  if (n == Next::dst_failed) return PumpResult::dst_failed;
  return PumpResult::ok;
}

}  // namespace

PumpResult pump(Conn& c, int s, PumpContext& ctx, int* err) {
  Half& h = c.half[s];
  const int d = 1 - s;
  for (;;) {
    bool moved = false;
    if (Next n = flush_pending(c, h, d, err); n != Next::again) return result_of(n);
    if (Next n = drain_pipe(c, h, d, ctx, moved, err); n != Next::again) return result_of(n);
    // 2. FIN from the source goes on once everything before it has been delivered; EPOLLOUT
    // brings us back while the pipe still holds bytes.
    if (h.eof) {
      if (h.in_pipe == 0 && !h.shut) {
        ::shutdown(c.fd[d], SHUT_WR);
        h.shut = true;
      }
      return PumpResult::ok;
    }
    if (!c.readable[s]) return PumpResult::ok;
    const Next n = h.splice ? splice_in(c, h, s, ctx, moved, err) : copy_in(c, h, s, ctx, err);
    if (n != Next::again) return result_of(n);
  }
}

}  // namespace snare::proxy
