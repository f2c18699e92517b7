// LoopGuard: recognizes the proxy's own upstream connections when the rules capture them again.
//
// The uid exclusion in the rules is decided once per conntrack entry. A stale entry (a reply-side
// RST leaves it in CLOSE with its REDIRECT mapping for 10 s) can capture a new upstream connection
// of ours that reuses the 4-tuple, and it comes back to our listener. Every upstream socket's local
// address is registered here with the depth of the connection it serves; an accepted client whose
// address is registered is one of ours. One such hop still ends at the right server
// (relay -> relay -> server), so it is allowed; a second is a loop and is refused.
#pragma once

#include <cstdint>
#include <mutex>
#include <unordered_map>

#include "proxy/sock_addr.h"

namespace snare::proxy {

class LoopGuard {
 public:
  static constexpr uint8_t kMaxDepth = 1;

  void add(const SockAddr& upstream_local, uint8_t depth);
  void remove(const SockAddr& upstream_local);
  // Depth of the connection `client` belongs to: 0 for a foreign client, else 1 + the depth of
  // our connection whose upstream socket `client` is.
  uint8_t depth_of(const SockAddr& client);

 private:
  struct Hash {
    size_t operator()(const SockAddr& a) const;
  };
  std::mutex mu_;  // workers share it: a re-captured connection may land on another worker
  std::unordered_map<SockAddr, uint8_t, Hash> own_;
};

}  // namespace snare::proxy
