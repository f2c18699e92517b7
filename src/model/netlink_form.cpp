// The netlink form's normal form (see netlink_form.h).
#include "model/netlink_form.h"

#include <linux/netfilter.h>

#include <algorithm>

namespace snare {

const char* nl_family_name(uint32_t family) {
  switch (family) {
    case NFPROTO_INET:
      return "inet";
    case NFPROTO_IPV4:
      return "ip";
    case NFPROTO_IPV6:
      return "ip6";
    case NFPROTO_ARP:
      return "arp";
    case NFPROTO_BRIDGE:
      return "bridge";
    case NFPROTO_NETDEV:
      return "netdev";
  }
  return "unknown";
}

const char* nl_hook_name(uint32_t hook) {
  static const char* const names[] = {"prerouting", "input", "forward", "output", "postrouting"};
  return hook < 5 ? names[hook] : "?";
}

NlForm netlink_normal_form(NlForm form) {
  auto by_name = [](const auto& a, const auto& b) { return a.name < b.name; };
  for (NlTable& t : form) {
    // A base chain without a policy has the kernel's default, accept (NF_ACCEPT), which the
    // kernel lists.
    for (NlChain& c : t.chains)
      if (c.base && !c.policy) c.policy = 1;
    std::sort(t.chains.begin(), t.chains.end(), by_name);
    std::sort(t.sets.begin(), t.sets.end(), by_name);
    std::sort(t.objects.begin(), t.objects.end());
  }
  std::sort(form.begin(), form.end(), [](const NlTable& a, const NlTable& b) {
    return a.family != b.family ? a.family < b.family : a.name < b.name;
  });
  return form;
}

}  // namespace snare
