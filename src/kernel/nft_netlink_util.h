// What kernel/nft_netlink's writer and reader share: owning pointers for libnftnl/libmnl objects,
// the netfilter netlink socket, and the names of stateful object kinds.
#pragma once

// libnftnl's headers use FILE without including <stdio.h>.
// clang-format off
#include <cstdio>
// clang-format on

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/flowtable.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"

namespace snare {

struct NlFree {
  void operator()(mnl_socket* s) const { mnl_socket_close(s); }
  void operator()(nftnl_table* t) const { nftnl_table_free(t); }
  void operator()(nftnl_chain* c) const { nftnl_chain_free(c); }
  void operator()(nftnl_rule* r) const { nftnl_rule_free(r); }
  void operator()(nftnl_set* s) const { nftnl_set_free(s); }
  void operator()(nftnl_obj* o) const { nftnl_obj_free(o); }
  void operator()(nftnl_flowtable* f) const { nftnl_flowtable_free(f); }
};
template <typename T>
using NlPtr = std::unique_ptr<T, NlFree>;

// A bound NETLINK_NETFILTER socket in the calling thread's network namespace.
Status nl_open_socket(NlPtr<mnl_socket>& out);

// A stateful object's kind as NlTable::objects names it ("counter", "quota", "ct_helper", ...),
// and back. nl_object_kind gives "object_N" for a type it does not know.
std::string nl_object_kind(uint32_t type);
bool nl_object_type(const std::string& kind, uint32_t& type);

}  // namespace snare
