// Shared pieces of kernel/nft_netlink (see nft_netlink_util.h and nft_netlink.h).
#include "kernel/nft_netlink_util.h"

#include <fmt/format.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <array>

#include "kernel/nft_netlink.h"

namespace snare {
namespace {

// NFT_OBJECT_* by number (index), as one word each.
constexpr std::array<const char*, 11> kObjectKinds{
    "unspec", "counter",    "quota",   "ct_helper",      "limit",   "connlimit",
    "tunnel", "ct_timeout", "secmark", "ct_expectation", "synproxy"};

}  // namespace

Status nl_open_socket(NlPtr<mnl_socket>& out) {
  out.reset(mnl_socket_open(NETLINK_NETFILTER));
  if (!out)
    return Status::Fail("nftables: cannot open a netfilter netlink socket: " + errno_text(errno));
  if (mnl_socket_bind(out.get(), 0, MNL_SOCKET_AUTOPID) < 0)
    return Status::Fail("nftables: cannot bind the netlink socket: " + errno_text(errno));
  return Status::Ok();
}

std::string nl_object_kind(uint32_t type) {
  if (type > 0 && type < kObjectKinds.size()) return kObjectKinds[type];
  return fmt::format("object_{}", type);
}

bool nl_object_type(const std::string& kind, uint32_t& type) {
  for (uint32_t i = 1; i < kObjectKinds.size(); ++i)
    if (kind == kObjectKinds[i]) {
      type = i;
      return true;
    }
  return false;
}

std::string nl_error_text(int err, const std::string& what) {
  return fmt::format("nftables: {}: {}", errno_text(err), what);
}

}  // namespace snare
