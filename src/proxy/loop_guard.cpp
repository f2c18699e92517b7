// LoopGuard registry (see loop_guard.h).
#include "proxy/loop_guard.h"

namespace snare::proxy {

size_t LoopGuard::Hash::operator()(const SockAddr& a) const { return a.hash(); }

void LoopGuard::add(const SockAddr& upstream_local, uint8_t depth) {
  std::lock_guard<std::mutex> lock(mu_);
  own_[upstream_local] = depth;
}

void LoopGuard::remove(const SockAddr& upstream_local) {
  std::lock_guard<std::mutex> lock(mu_);
  own_.erase(upstream_local);
}

uint8_t LoopGuard::depth_of(const SockAddr& client) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = own_.find(client);
  return it == own_.end() ? 0 : static_cast<uint8_t>(it->second + 1);
}

}  // namespace snare::proxy
