// NftTraceOps: the seam between `snare trace --live` (trace/live.h) and the kernel's nftables
// trace events.
//
// The kernel reports, for a packet whose nftrace bit is set, every base chain it enters and every
// rule that matched (with its verdict) as NFT_MSG_TRACE messages on the NFNLGRP_NFTRACE netlink
// group. The real ops subscribe to that group with libmnl and parse the messages with libnftnl's
// nftnl_trace; they also make the packet (a forked child that becomes the packet's owner and
// connects or sends) and turn SIGINT/SIGTERM into an "interrupted" answer rather than an exit, so
// that the caller always removes its temporary table. tests/unit/fakes/fake_nft_trace.h replays
// canned events.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

struct nlmsghdr;

#include "base/parse.h"
#include "base/status.h"

namespace snare {

// One trace message, as the kernel sent it (the fields `nft monitor trace` prints).
struct NftTraceEvent {
  enum class Type : uint8_t { packet, rule, ret, policy } type = Type::rule;
  uint32_t id = 0;  // one per packet (a packet looped back on lo gets a new one)
  std::string table, chain;
  uint32_t family = 0;             // the table's (NFPROTO_INET: 1)
  std::optional<uint64_t> handle;  // rule: the rule's handle
  int32_t verdict = 0;             // rule, ret: NF_ACCEPT, NF_DROP, NFT_JUMP, NFT_CONTINUE, ...
  std::string jump_target;         // verdict jump or goto
  uint32_t policy = 1;             // policy: NF_ACCEPT (1) or NF_DROP (0)
  uint32_t iif = 0, oif = 0;       // interface indexes, 0 when the kernel has none
  std::string oifname;             // oif's name in the namespace (empty: none, or gone)
  uint32_t mark = 0;
};

// The packet `snare trace --live` makes: from a child that is its owner (uid, gid; mark through
// SO_MARK when set), bound to src:sport, to dst:dport; TCP: a connect (its SYN), UDP: one datagram.
struct LiveProbe {
  bool tcp = true;
  IpAddr src, dst;
  uint16_t sport = 0, dport = 0;
  uint32_t uid = 0, gid = 0;
  std::optional<uint32_t> mark;
};

class NftTraceOps {
 public:
  virtual ~NftTraceOps() = default;
  // Joins NFNLGRP_NFTRACE in the calling thread's network namespace (root).
  virtual Status subscribe() = 0;
  // Sends the probe and waits for the child (bounded); fails when no packet could leave.
  virtual Status send(const LiveProbe& probe) = 0;
  // The next event, waiting at most `timeout_ms`; `got` false when none came in that time. Fails
  // once SIGINT or SIGTERM arrived (see catch_signals), or on a netlink error.
  virtual Status next(NftTraceEvent& event, int timeout_ms, bool& got) = 0;
  // From now until release_signals: SIGINT and SIGTERM are remembered, not fatal.
  virtual void catch_signals() = 0;
  // The old handlers back; returns the signal caught meanwhile (0: none).
  virtual int release_signals() = 0;
};

std::unique_ptr<NftTraceOps> make_nft_trace_ops();

// One NFT_MSG_TRACE message (after its netlink header, the nfgenmsg and NFTA_TRACE_*
// attributes) parsed with libnftnl into `out`; false for another message or a malformed one.
bool parse_trace_message(const nlmsghdr* nlh, NftTraceEvent& out);

}  // namespace snare
