// nftables trace events over netlink (libmnl + libnftnl) and the live probe (see nft_trace.h).
#include "kernel/nft_trace.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <libmnl/libmnl.h>
#include <libnftnl/trace.h>
#include <linux/capability.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <deque>
#include <vector>

namespace snare {
namespace {

volatile std::sig_atomic_t g_signal = 0;

void remember_signal(int sig) { g_signal = sig; }

NftTraceEvent::Type event_type(uint32_t t) {
  switch (t) {
    case NFT_TRACETYPE_RULE:
      return NftTraceEvent::Type::rule;
    case NFT_TRACETYPE_RETURN:
      return NftTraceEvent::Type::ret;
    case NFT_TRACETYPE_POLICY:
      return NftTraceEvent::Type::policy;
  }
  return NftTraceEvent::Type::packet;
}

struct TraceDel {
  void operator()(nftnl_trace* t) const { nftnl_trace_free(t); }
};

}  // namespace

bool parse_trace_message(const nlmsghdr* nlh, NftTraceEvent& e) {
  if ((nlh->nlmsg_type & 0xff) != NFT_MSG_TRACE) return false;
  std::unique_ptr<nftnl_trace, TraceDel> t(nftnl_trace_alloc());
  if (!t || nftnl_trace_nlmsg_parse(nlh, t.get()) < 0) return false;
  nftnl_trace* p = t.get();
  e = NftTraceEvent{};
  e.type = event_type(nftnl_trace_get_u32(p, NFTNL_TRACE_TYPE));
  e.id = nftnl_trace_get_u32(p, NFTNL_TRACE_ID);
  const char* table = nftnl_trace_get_str(p, NFTNL_TRACE_TABLE);
  const char* chain = nftnl_trace_get_str(p, NFTNL_TRACE_CHAIN);
  e.table = table ? table : "";
  e.chain = chain ? chain : "";
  e.family = nftnl_trace_get_u32(p, NFTNL_TRACE_FAMILY);
  if (nftnl_trace_is_set(p, NFTNL_TRACE_RULE_HANDLE))
    e.handle = nftnl_trace_get_u64(p, NFTNL_TRACE_RULE_HANDLE);
  if (nftnl_trace_is_set(p, NFTNL_TRACE_VERDICT))
    e.verdict = static_cast<int32_t>(nftnl_trace_get_u32(p, NFTNL_TRACE_VERDICT));
  if (nftnl_trace_is_set(p, NFTNL_TRACE_JUMP_TARGET))
    e.jump_target = nftnl_trace_get_str(p, NFTNL_TRACE_JUMP_TARGET);
  if (nftnl_trace_is_set(p, NFTNL_TRACE_POLICY))
    e.policy = nftnl_trace_get_u32(p, NFTNL_TRACE_POLICY);
  if (nftnl_trace_is_set(p, NFTNL_TRACE_IIF)) e.iif = nftnl_trace_get_u32(p, NFTNL_TRACE_IIF);
  if (nftnl_trace_is_set(p, NFTNL_TRACE_OIF)) e.oif = nftnl_trace_get_u32(p, NFTNL_TRACE_OIF);
  char name[IF_NAMESIZE];
  if (e.oif && ::if_indextoname(e.oif, name)) e.oifname = name;
  if (nftnl_trace_is_set(p, NFTNL_TRACE_MARK)) e.mark = nftnl_trace_get_u32(p, NFTNL_TRACE_MARK);
  return true;
}

namespace {

int trace_cb(const nlmsghdr* nlh, void* data) {
  NftTraceEvent e;
  if (parse_trace_message(nlh, e))
    static_cast<std::deque<NftTraceEvent>*>(data)->push_back(std::move(e));
  return MNL_CB_OK;
}

// The sockaddr of addr:port.
socklen_t sockaddr_of(const IpAddr& a, uint16_t port, sockaddr_storage& ss) {
  std::memset(&ss, 0, sizeof ss);
  if (a.v6) {
    auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(port);
    std::memcpy(&s6->sin6_addr, a.bytes.data(), 16);
    return sizeof *s6;
  }
  auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
  s4->sin_family = AF_INET;
  s4->sin_port = htons(port);
  std::memcpy(&s4->sin_addr, a.bytes.data(), 4);
  return sizeof *s4;
}

// Becomes uid/gid and keeps CAP_NET_ADMIN (for SO_MARK): keep-caps across setresuid, then the
// capability made effective again. Returns the step that failed, or nullptr.
const char* become_owner(const LiveProbe& p) {
  const gid_t gid = p.gid;
  if (::setgroups(1, &gid) != 0) return "setgroups";
  if (::setresgid(p.gid, p.gid, p.gid) != 0) return "setresgid";
  if (::prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) != 0) return "prctl(PR_SET_KEEPCAPS)";
  if (::setresuid(p.uid, p.uid, p.uid) != 0) return "setresuid";
  if (!p.mark) return nullptr;
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (::syscall(SYS_capget, &hdr, data) != 0) return "capget";
  data[0].effective |= 1U << CAP_NET_ADMIN;
  if (::syscall(SYS_capset, &hdr, data) != 0) return "capset(CAP_NET_ADMIN)";
  return nullptr;
}

// The child's work: the socket is made after the switch, so its owner (skuid, skgid) is the
// probe's. Returns the failed step, or nullptr once the packet left (or a rule refused it: EPERM).
const char* probe_child(const LiveProbe& p, int& err) {
  if (const char* step = become_owner(p)) return err = errno, step;
  const int fam = p.src.v6 ? AF_INET6 : AF_INET;
  const int fd = ::socket(fam, (p.tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK, 0);
  if (fd < 0) return err = errno, "socket";
  const int one = 1;
  // Why free-bind: SRC may be an address the namespace does not hold (a pod's, traced from the
  // node); the packet still leaves with it.
  ::setsockopt(fd, fam == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP,
               fam == AF_INET6 ? IPV6_FREEBIND : IP_FREEBIND, &one, sizeof one);
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (p.mark && ::setsockopt(fd, SOL_SOCKET, SO_MARK, &*p.mark, sizeof *p.mark) != 0)
    return err = errno, "setsockopt(SO_MARK)";
  sockaddr_storage src, dst;
  const socklen_t sl = sockaddr_of(p.src, p.sport, src), dl = sockaddr_of(p.dst, p.dport, dst);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&src), sl) != 0) return err = errno, "bind";
  const int rc =
      p.tcp ? ::connect(fd, reinterpret_cast<sockaddr*>(&dst), dl)
            : static_cast<int>(::sendto(fd, "snare", 5, 0, reinterpret_cast<sockaddr*>(&dst), dl));
  // EINPROGRESS: the SYN left; ECONNREFUSED: it left and a reset came back at once; EPERM: a
  // rule dropped it on the way out. All three are answers.
  if (rc < 0 && errno != EINPROGRESS && errno != ECONNREFUSED && errno != EPERM)
    return err = errno, p.tcp ? "connect" : "sendto";
  ::close(fd);
  return nullptr;
}

class RealNftTrace : public NftTraceOps {
 public:
  ~RealNftTrace() override {
    if (nl_) mnl_socket_close(nl_);
    release_signals();
  }

  Status subscribe() override {
    nl_ = mnl_socket_open(NETLINK_NETFILTER);
    if (!nl_) return Status::Fail("netlink socket: " + errno_text(errno));
    if (mnl_socket_bind(nl_, 0, MNL_SOCKET_AUTOPID) < 0)
      return Status::Fail("netlink bind: " + errno_text(errno));
    int group = NFNLGRP_NFTRACE;
    if (mnl_socket_setsockopt(nl_, NETLINK_ADD_MEMBERSHIP, &group, sizeof group) < 0)
      return Status::Fail("cannot join the nftables trace group: " + errno_text(errno));
    // Why a large buffer: a packet through a long rule set is one message per matched rule.
    const int size = 4 << 20;
    ::setsockopt(mnl_socket_get_fd(nl_), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
    return Status::Ok();
  }

  Status send(const LiveProbe& probe) override {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return Status::Fail("pipe: " + errno_text(errno));
    const pid_t pid = ::fork();
    if (pid < 0)
      return ::close(fds[0]), ::close(fds[1]), Status::Fail("fork: " + errno_text(errno));
    if (pid == 0) {
      ::close(fds[0]);
      int err = 0;
      const char* step = probe_child(probe, err);
      if (step) {
        const std::string msg = fmt::format("{}: {}", step, std::strerror(err));
        (void)!::write(fds[1], msg.data(), msg.size());
      }
      ::_exit(step ? 1 : 0);
    }
    ::close(fds[1]);
    char buf[256];
    const ssize_t n = read_bounded(fds[0], buf, sizeof buf);
    ::close(fds[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (n > 0) return Status::Fail(std::string(buf, static_cast<size_t>(n)));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      return Status::Fail("the probe's process failed");
    return Status::Ok();
  }

  Status next(NftTraceEvent& event, int timeout_ms, bool& got) override {
    got = false;
    while (queue_.empty()) {
      if (g_signal) return interrupted();
      pollfd pfd{mnl_socket_get_fd(nl_), POLLIN, 0};
      const int rc = ::poll(&pfd, 1, timeout_ms);
      if (rc < 0 && errno == EINTR) continue;
      if (rc < 0) return Status::Fail("poll: " + errno_text(errno));
      if (rc == 0) return g_signal ? interrupted() : Status::Ok();
      std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE * 8);
      const ssize_t n = mnl_socket_recvfrom(nl_, buf.data(), buf.size());
      if (n < 0 && errno == ENOBUFS)
        return Status::Fail("the kernel dropped trace events (receive buffer full)");
      if (n < 0) return Status::Fail("netlink receive: " + errno_text(errno));
      if (mnl_cb_run(buf.data(), static_cast<size_t>(n), 0, 0, trace_cb, &queue_) < 0)
        return Status::Fail("netlink: " + errno_text(errno));
    }
    event = std::move(queue_.front());
    queue_.pop_front();
    got = true;
    return Status::Ok();
  }

  void catch_signals() override {
    if (caught_) return;
    g_signal = 0;
    struct sigaction sa {};
    sa.sa_handler = remember_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: a wait in poll ends at once
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
    caught_ = true;
  }

  int release_signals() override {
    if (!caught_) return 0;
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
    caught_ = false;
    return g_signal;
  }

 private:
  static Status interrupted() {
    return Status::Fail(g_signal == SIGTERM ? "interrupted by SIGTERM" : "interrupted by SIGINT");
  }

  // The child's error message, if any; EOF when it closed the pipe (exited).
  static ssize_t read_bounded(int fd, char* buf, size_t size) {
    ssize_t n;
    while ((n = ::read(fd, buf, size)) < 0 && errno == EINTR) {
    }
    return n;
  }

  mnl_socket* nl_ = nullptr;
  std::deque<NftTraceEvent> queue_;
  bool caught_ = false;
  struct sigaction old_int_ {
  }, old_term_{};
};

}  // namespace

std::unique_ptr<NftTraceOps> make_nft_trace_ops() { return std::make_unique<RealNftTrace>(); }

}  // namespace snare
