// What a match or target does to one packet: the evaluation form of the extensions (ext/ext.h),
// which `snare trace` walks the tables with (trace/trace.h).
//
// A packet is what the kernel knows of it at a hook: its addresses and ports, the interfaces,
// the socket that sent it (owner), its mark and its connection's state and mark. A match answers
// matched, not matched (naming the test that failed and the packet's value), or cannot tell
// (what the simulator does not model, such as an ipset's members). A target changes the packet
// (a mark, a NAT mapping) and says where the walk goes on: the next rule, a chain, a verdict.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/parse.h"
#include "model/rule.h"

namespace snare {

// The netfilter hooks a packet to or from a local socket passes, in the kernel's names.
enum class Hook : uint8_t { prerouting, input, output, postrouting };
const char* hook_name(Hook h);  // "PREROUTING", ...

// The packet as the tables see it at one hook.
struct Packet {
  std::string proto = "tcp";  // "tcp" or "udp"
  IpAddr src, dst;
  uint16_t sport = 0, dport = 0;
  std::string iif, oif;  // empty where the kernel has no device (iif on output, oif on input)
  bool socket = false;   // a local socket sent it (the owner match's view)
  uint32_t uid = 0, gid = 0;
  uint32_t mark = 0;
  uint32_t ctmark = 0;
  bool established = false;  // a later packet of the connection; false: the first one (NEW)
};

// A NAT mapping or a TPROXY assignment a target made: where the connection goes.
struct Capture {
  enum class Kind : uint8_t { redirect, tproxy, snat, dnat } kind = Kind::redirect;
  std::optional<uint16_t> to_port;  // REDIRECT's / TPROXY's port
  std::string to_addr;              // SNAT's / DNAT's address; REDIRECT's local address
  IpAddr orig_dst;                  // the destination before it
  uint16_t orig_dport = 0;
};

// What a rule's evaluation may read and change beyond the packet: the hook and table it is at,
// and what the targets did so far (a NAT mapping, a conntrack zone).
struct EvalContext {
  Hook hook = Hook::output;
  Table table = Table::nat;
  Family family = Family::v4;
  bool conntrack = true;  // the connection is known here (not in raw: conntrack runs after it)
  Packet packet;
  std::optional<Capture> capture;
  std::optional<int> zone;
};

// A match's answer.
struct MatchResult {
  enum class Outcome : uint8_t { matched, failed, unknown } outcome = Outcome::matched;
  std::string why;  // failed: the test and the packet's value; unknown: what is not modelled
  static MatchResult yes() { return {}; }
  static MatchResult no(std::string why) { return {Outcome::failed, std::move(why)}; }
  static MatchResult unknown(std::string why) { return {Outcome::unknown, std::move(why)}; }
};

// `cond` holds (after the match's negation) or fails with `why`.
inline MatchResult match_if(bool cond, std::string why) {
  return cond ? MatchResult::yes() : MatchResult::no(std::move(why));
}

// Where the walk goes after a target: the next rule (MARK, CONNMARK, CT), into `chain` (a jump),
// back to the calling chain, or a verdict that ends this table's chain at this hook (ACCEPT and
// the NAT and TPROXY targets) or the packet (DROP). `unknown`: the target is not modelled.
struct TargetResult {
  enum class Kind : uint8_t { next, jump, ret, accept, drop, unknown } kind = Kind::next;
  std::string chain;   // jump
  std::string note;    // what it did ("mark 0x539"), or what is not modelled
  bool go_to = false;  // jump: a goto (`-g`): the end of `chain` returns past the current chain
};

// Masked value test of the mark and connmark matches.
inline bool mark_matches(uint32_t value, const Mark& m) { return (value & m.mask) == m.value; }

// The packet's address and port as the answers print them: "10.0.0.1:80", "[fd00::1]:80".
std::string addr_port_text(const IpAddr& a, uint16_t port);

// Whether `a` is in the prefix (of its family).
bool in_prefix(const IpAddr& a, const Prefix& p);

// The loopback address a locally generated packet is redirected to: 127.0.0.1 or ::1.
IpAddr loopback_addr(bool v6);

}  // namespace snare
