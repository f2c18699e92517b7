// The event loop (see worker.h).
#include "proxy/worker.h"

#include <fmt/format.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>

#include <algorithm>

#include "base/log.h"

namespace snare::proxy {
namespace {

// epoll_data carries a pointer with the kind of object in its low bits (all are 8-aligned).
constexpr uint64_t kTagClient = 0;
constexpr uint64_t kTagUpstream = 1;
constexpr uint64_t kTagListener = 2;
constexpr uint64_t kTagWake = 3;
constexpr uint64_t kTagMask = 7;
constexpr uint32_t kScratchSize = 64 * 1024;
constexpr uint32_t kConnEvents = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;

static_assert(alignof(Listener) >= 8 && alignof(Conn) >= 8 && alignof(Worker) >= 8);
uint64_t tagged(const void* p, uint64_t tag) { return reinterpret_cast<uint64_t>(p) | tag; }

void set_linger0(int fd) {
  // Why: closing with a zero linger sends RST, which is how a reset (or a refused upstream)
  // reaches the other side instead of an orderly FIN that would read as "all data delivered".
  linger lg{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
}

}  // namespace

Worker::Worker(int id, const WorkerConfig& config, LoopGuard* guard, SocketCalls& calls)
    : id_(id),
      config_(config),
      guard_(guard),
      calls_(calls),
      scratch_(new char[kScratchSize]),
      pipes_(config.pipe_size) {
  pump_ctx_.scratch = scratch_.get();
  pump_ctx_.scratch_size = kScratchSize;
  pump_ctx_.pipes = &pipes_;
  pump_ctx_.splice_allowed = config.splice != SpliceMode::never;
  pump_ctx_.splice_first = config.splice == SpliceMode::always;
  pump_ctx_.pipe_size = config.pipe_size > 0 ? config.pipe_size : 65536;
  pump_ctx_.stats = &stats_;
}

Worker::~Worker() {
  for (Conn* c : conns_) {
    ::close(c->fd[0]);
    ::close(c->fd[1]);
    pipes_.put(c->half[0].pipe, false);
    pipes_.put(c->half[1].pipe, false);
    delete c;
  }
  for (Conn* c : dead_) delete c;
  for (Listener& l : listeners_) {
    if (l.fd >= 0) ::close(l.fd);
  }
  if (wakefd_ >= 0) ::close(wakefd_);
  if (epfd_ >= 0) ::close(epfd_);
}

Status Worker::init(std::vector<Listener> listeners) {
  listeners_ = std::move(listeners);
  epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ < 0) return Status::Fail(fmt::format("epoll_create1: {}", errno_text(errno)));
  wakefd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wakefd_ < 0) return Status::Fail(fmt::format("eventfd: {}", errno_text(errno)));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = tagged(this, kTagWake);
  if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, wakefd_, &ev) < 0) {
    return Status::Fail(fmt::format("epoll_ctl: {}", errno_text(errno)));
  }
  for (Listener& l : listeners_) {
    ev.events = EPOLLIN;
    ev.data.u64 = tagged(&l, kTagListener);
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, l.fd, &ev) < 0) {
      return Status::Fail(fmt::format("epoll_ctl: {}", errno_text(errno)));
    }
  }
  conns_.reserve(1024);
  update_now();
  next_tick_ms_ = now_ms_ + 1000;
  return Status::Ok();
}

void Worker::drain() {
  request_.store(1);
  uint64_t one = 1;
  (void)!::write(wakefd_, &one, sizeof one);
}

void Worker::stop_now() {
  request_.store(2);
  uint64_t one = 1;
  (void)!::write(wakefd_, &one, sizeof one);
}

void Worker::update_now() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  now_ms_ = static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

void Worker::run() {
  epoll_event events[256];
  for (;;) {
    int timeout = static_cast<int>(std::max<int64_t>(0, next_tick_ms_ - now_ms_));
    int n = ::epoll_wait(epfd_, events, 256, timeout);
    update_now();
    for (int i = 0; i < n; ++i) {
      const uint64_t data = events[i].data.u64;
      void* p = reinterpret_cast<void*>(data & ~kTagMask);
      switch (data & kTagMask) {
        case kTagClient:
          on_conn_event(static_cast<Conn*>(p), 0, events[i].events);
          break;
        case kTagUpstream:
          on_conn_event(static_cast<Conn*>(p), 1, events[i].events);
          break;
        case kTagListener:
          on_accept(*static_cast<Listener*>(p));
          break;
        case kTagWake: {
          uint64_t v;
          (void)!::read(wakefd_, &v, sizeof v);
          break;
        }
      }
    }
    // Connections closed during this batch may still have had events in it: free them now.
    for (Conn* c : dead_) delete c;
    dead_.clear();
    const int req = request_.load();
    if (req == 2) {
      begin_drain();
      drain_deadline_ms_ = now_ms_;
      next_tick_ms_ = now_ms_;
    } else if (req == 1 && !draining_) {
      begin_drain();
    }
    if (now_ms_ >= next_tick_ms_) {
      tick();
      for (Conn* c : dead_) delete c;
      dead_.clear();
      next_tick_ms_ = now_ms_ + ((draining_ || accept_paused_) ? 100 : 1000);
    }
    if (draining_ && conns_.empty()) return;
  }
}

void Worker::begin_drain() {
  if (draining_) return;
  draining_ = true;
  drain_deadline_ms_ = now_ms_ + config_.drain_timeout.count();
  // Closing the listeners tells the kernel to stop queueing new connections for us.
  for (Listener& l : listeners_) {
    if (l.fd >= 0) ::close(l.fd);
    l.fd = -1;
  }
  next_tick_ms_ = now_ms_;
}

void Worker::pause_accept(bool pause, const char* why) {
  if (pause == accept_paused_ || draining_) return;
  accept_paused_ = pause;
  if (pause) bump(stats_.accept_paused);
  for (Listener& l : listeners_) {
    epoll_event ev{};
    ev.events = pause ? 0u : static_cast<uint32_t>(EPOLLIN);
    ev.data.u64 = tagged(&l, kTagListener);
    ::epoll_ctl(epfd_, EPOLL_CTL_MOD, l.fd, &ev);
  }
  if (pause) {
    log_warn(
        "worker {}: not accepting for now: {} ({} connections, limit {}); retrying every 100 ms",
        id_, why, conns_.size(), config_.max_connections);
    next_tick_ms_ = std::min(next_tick_ms_, now_ms_ + 100);
  }
}

void Worker::on_accept(Listener& l) {
  // Level-triggered: take a bounded batch, the rest comes with the next turn.
  for (int i = 0; i < 64 && !accept_paused_ && !draining_; ++i) {
    if (conns_.size() >= config_.max_connections) {
      pause_accept(true, "at the connection limit (raise --max-connections or the fd limit)");
      return;
    }
    sockaddr_in6 raw{};
    socklen_t len = sizeof raw;
    SysResult r =
        calls_.accept4(l.fd, reinterpret_cast<sockaddr*>(&raw), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (!r.ok()) {
      if (r.err == EAGAIN) return;
      if (r.err == EMFILE || r.err == ENFILE || r.err == ENOBUFS || r.err == ENOMEM) {
        pause_accept(true, "out of file descriptors or memory (raise the fd limit, ulimit -n)");
        return;
      }
      continue;  // ECONNABORTED, EINTR, EPERM: that connection is gone, others may wait
    }
    accept_one(l, static_cast<int>(r.rc),
               SockAddr::from(reinterpret_cast<const sockaddr*>(&raw), len));
  }
}

bool Worker::is_own_listener(const SockAddr& dst) {
  if (std::find(config_.own_ports.begin(), config_.own_ports.end(), dst.port()) ==
      config_.own_ports.end()) {
    return false;
  }
  if (dst.is_loopback()) return true;
  // Rare (a destination port equal to one of ours): ask the kernel for the local addresses.
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) < 0) return false;
  bool local = false;
  for (ifaddrs* i = list; i != nullptr && !local; i = i->ifa_next) {
    if (i->ifa_addr == nullptr) continue;
    const int f = i->ifa_addr->sa_family;
    if (f != AF_INET && f != AF_INET6) continue;
    SockAddr a =
        SockAddr::from(i->ifa_addr, f == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6));
    local = a.same_ip(dst);
  }
  ::freeifaddrs(list);
  return local;
}

void Worker::reject(int fd, Direction dir, const SockAddr& peer, const SockAddr& dst,
                    EndReason reason, const char* why) {
  set_linger0(fd);
  calls_.close(fd);
  bump(stats_.ended[static_cast<int>(reason)]);
  log_line(LogLevel::warn, "connection refused",
           {{"dir", direction_name(dir)},
            {"client", peer.str()},
            {"dst", dst.str()},
            {"end", end_reason_name(reason)},
            {"why", why}});
}

// The upstream socket for a connection to `dst`; inbound ones come from 127.0.0.6 / ::6, which
// istio's rules let through to the app instead of capturing it again (as Envoy's passthrough
// cluster does). -1, and `why` says what failed.
int Worker::open_upstream(Direction dir, const SockAddr& dst, EndReason& reason, const char*& why) {
  SysResult s = calls_.socket(dst.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (!s.ok()) {
    if (s.err == EMFILE || s.err == ENFILE)
      pause_accept(true, "out of file descriptors (raise the fd limit, ulimit -n)");
    reason = EndReason::overload, why = "no socket for the upstream";
    return -1;
  }
  const int ufd = static_cast<int>(s.rc);
  if (dir == Direction::inbound) {
    const SockAddr& src =
        dst.family() == AF_INET6 ? config_.inbound_source_v6 : config_.inbound_source_v4;
    const int one = 1;
    // Why: without this, bind() picks the source port before the destination is known and the
    // 127.0.0.6 ports run out at ~28k connections instead of per destination.
    calls_.setsockopt(ufd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    SysResult b = calls_.bind(ufd, src.sa(), src.len());
    if (!b.ok() && b.err == EADDRNOTAVAIL) {
      // ::6 is not on lo (snare's apply adds it; a bare netns lacks it): bind it anyway.
      calls_.setsockopt(ufd, SOL_IP, IP_FREEBIND, &one, sizeof one);
      b = calls_.bind(ufd, src.sa(), src.len());
    }
    if (!b.ok()) {
      calls_.close(ufd);
      reason = EndReason::connect_failed, why = "cannot bind the inbound source address";
      return -1;
    }
  }
  return ufd;
}

void Worker::accept_one(Listener& l, int fd, const SockAddr& peer) {
  const Direction dir = l.spec.direction;
  bump(stats_.accepted[dir == Direction::inbound ? 1 : 0]);
  OriginalDst od =
      original_dst(calls_, fd, l.spec.addr.family(), l.spec.addr.port(), l.transparent);
  if (od.source == DstSource::none)
    return reject(fd, dir, peer, od.addr, EndReason::not_redirected,
                  "no original destination: connected to the listener directly");
  if (is_own_listener(od.addr))
    return reject(fd, dir, peer, od.addr, EndReason::loop,
                  "original destination is a listener of this proxy");
  const uint8_t depth = guard_->depth_of(peer);
  if (depth > LoopGuard::kMaxDepth)
    return reject(fd, dir, peer, od.addr, EndReason::loop,
                  "captured again: the client is this proxy's own upstream connection");
  EndReason reason = EndReason::connect_failed;
  const char* why = "";
  const int ufd = open_upstream(dir, od.addr, reason, why);
  if (ufd < 0) return reject(fd, dir, peer, od.addr, reason, why);
  SysResult c = calls_.connect(ufd, od.addr.sa(), od.addr.len());
  if (!c.ok() && c.err != EINPROGRESS) {
    calls_.close(ufd);
    return reject(fd, dir, peer, od.addr,
                  c.err == ECONNREFUSED ? EndReason::connect_refused : EndReason::connect_failed,
                  "upstream connect failed");
  }
  Conn* conn = new Conn;
  conn->fd[0] = fd;
  conn->fd[1] = ufd;
  conn->direction = dir;
  conn->dst_source = od.source;
  conn->depth = depth;
  conn->client = peer;
  conn->dst = od.addr;
  conn->start_ms = conn->last_ms = now_ms_;
  conn->half[0].splice = conn->half[1].splice = pump_ctx_.splice_first;
  if (c.ok()) conn->state = ConnState::established;
  add_conn(conn);
}

// Registers an accepted connection: its upstream address with the loop guard, the list, epoll.
void Worker::add_conn(Conn* conn) {
  sockaddr_in6 raw{};
  socklen_t len = sizeof raw;
  if (calls_.getsockname(conn->fd[1], reinterpret_cast<sockaddr*>(&raw), &len).ok()) {
    conn->upstream_local = SockAddr::from(reinterpret_cast<const sockaddr*>(&raw), len);
    guard_->add(conn->upstream_local, conn->depth);
  }
  conn->index = static_cast<uint32_t>(conns_.size());
  conns_.push_back(conn);
  bump(stats_.active[conn->direction == Direction::inbound ? 1 : 0]);
  epoll_event ev{};
  ev.events = kConnEvents;
  ev.data.u64 = tagged(conn, kTagClient);
  ::epoll_ctl(epfd_, EPOLL_CTL_ADD, conn->fd[0], &ev);
  ev.data.u64 = tagged(conn, kTagUpstream);
  ::epoll_ctl(epfd_, EPOLL_CTL_ADD, conn->fd[1], &ev);
}

void Worker::on_conn_event(Conn* c, int side, uint32_t ev) {
  if (c->state == ConnState::closed) return;
  if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) c->readable[side] = true;
  if (ev & (EPOLLRDHUP | EPOLLHUP)) c->rdhup[side] = true;
  if (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR)) c->writable[side] = true;
  if (c->state == ConnState::connecting) {
    if (side == 0 || !(ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
    on_connected(c, ev);
    return;
  }
  c->last_ms = now_ms_;
  run_pumps(c);
}

void Worker::on_connected(Conn* c, uint32_t ev) {
  int err = 0;
  // A plain EPOLLOUT means connected; only an error event needs SO_ERROR to say which.
  if (ev & (EPOLLERR | EPOLLHUP)) {
    socklen_t len = sizeof err;
    SysResult r = calls_.getsockopt(c->fd[1], SOL_SOCKET, SO_ERROR, &err, &len);
    if (!r.ok()) err = r.err;
    if (err == 0) err = ECONNRESET;
  }
  if (err != 0) {
    // The client already saw its connect() succeed: a reset is the closest thing to "refused".
    finish(c, err == ECONNREFUSED ? EndReason::connect_refused : EndReason::connect_failed, err,
           true, false);
    return;
  }
  c->state = ConnState::established;
  c->last_ms = now_ms_;
  run_pumps(c);
}

void Worker::run_pumps(Conn* c) {
  for (int s = 0; s < 2; ++s) {
    int err = 0;
    PumpResult r = pump(*c, s, pump_ctx_, &err);
    if (r == PumpResult::src_failed) {
      // Side s failed (reset): pass the reset on to the other side.
      finish(c, s == 0 ? EndReason::client_reset : EndReason::upstream_reset, err, s == 1, s == 0);
      return;
    }
    if (r == PumpResult::dst_failed) {
      // Side 1-s failed while we wrote to it: reset side s.
      finish(c, s == 0 ? EndReason::upstream_reset : EndReason::client_reset, err, s == 0, s == 1);
      return;
    }
  }
  if (c->half[0].done() && c->half[1].done()) finish(c, EndReason::eof, 0, false, false);
}

void Worker::finish(Conn* c, EndReason reason, int err, bool reset_client, bool reset_upstream) {
  if (reset_client) set_linger0(c->fd[0]);
  if (reset_upstream) set_linger0(c->fd[1]);
  ::close(c->fd[0]);
  ::close(c->fd[1]);
  for (Half& h : c->half) {
    pipes_.put(h.pipe, h.in_pipe == 0);
    h.pipe = Pipe{};
    h.pend.reset();
  }
  if (!c->upstream_local.empty()) guard_->remove(c->upstream_local);
  c->state = ConnState::closed;
  const int di = c->direction == Direction::inbound ? 1 : 0;
  drop(stats_.active[di]);
  bump(stats_.ended[static_cast<int>(reason)]);
  bump(stats_.bytes_up[di], c->half[0].bytes);
  bump(stats_.bytes_down[di], c->half[1].bytes);
  if (config_.access_log && log_enabled(LogLevel::info)) {
    LogFields f = {{"dir", direction_name(c->direction)},
                   {"client", c->client.str()},
                   {"dst", c->dst.str()},
                   {"dst_from", dst_source_name(c->dst_source)},
                   {"bytes_up", std::to_string(c->half[0].bytes)},
                   {"bytes_down", std::to_string(c->half[1].bytes)},
                   {"ms", std::to_string(now_ms_ - c->start_ms)},
                   {"end", end_reason_name(reason)}};
    if (err != 0) f.emplace_back("error", errno_text(err));
    if (c->depth > 0) f.emplace_back("recaptured", std::to_string(c->depth));
    log_line(LogLevel::info, "connection", f);
  }
  // Swap-remove from the list; the object itself is freed after the event batch.
  Conn* last = conns_.back();
  conns_[c->index] = last;
  last->index = c->index;
  conns_.pop_back();
  dead_.push_back(c);
}

void Worker::tick() {
  if (accept_paused_ && conns_.size() < config_.max_connections) pause_accept(false);
  const int64_t connect_ms = config_.connect_timeout.count();
  const int64_t idle_ms = config_.idle_timeout.count();
  const bool deadline = draining_ && now_ms_ >= drain_deadline_ms_;
  // Walk backwards: finish() swap-removes the current element.
  for (size_t i = conns_.size(); i-- > 0;) {
    Conn* c = conns_[i];
    if (deadline) {
      finish(c, EndReason::drain, 0, true, true);
    } else if (c->state == ConnState::connecting) {
      if (connect_ms > 0 && now_ms_ - c->start_ms >= connect_ms) {
        finish(c, EndReason::connect_timeout, ETIMEDOUT, true, false);
      }
    } else if (idle_ms > 0 && now_ms_ - c->last_ms >= idle_ms) {
      finish(c, EndReason::idle_timeout, 0, false, false);
    }
  }
}

}  // namespace snare::proxy
