// The trace message parser of kernel/nft_trace.cpp (libnftnl's nftnl_trace): a message built as
// the kernel builds NFT_MSG_TRACE (nfgenmsg, then NFTA_TRACE_* attributes in network order).
#include "kernel/nft_trace.h"

#include <arpa/inet.h>
#include <endian.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <catch2/catch.hpp>
#include <vector>

using namespace snare;

namespace {

nlmsghdr* trace_header(std::vector<char>& buf, uint16_t type) {
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = static_cast<uint16_t>((NFNL_SUBSYS_NFTABLES << 8) | type);
  auto* g = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  g->nfgen_family = NFPROTO_INET;
  g->version = NFNETLINK_V0;
  g->res_id = 0;
  return nlh;
}

}  // namespace

TEST_CASE("nft trace: a rule event's table, chain, handle, verdict and devices") {
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* nlh = trace_header(buf, NFT_MSG_TRACE);
  mnl_attr_put_strz(nlh, NFTA_TRACE_TABLE, "istio-proxy-nat");
  mnl_attr_put_strz(nlh, NFTA_TRACE_CHAIN, "istio-output");
  mnl_attr_put_u32(nlh, NFTA_TRACE_ID, htonl(0x1234));
  mnl_attr_put_u32(nlh, NFTA_TRACE_TYPE, htonl(NFT_TRACETYPE_RULE));
  mnl_attr_put_u64(nlh, NFTA_TRACE_RULE_HANDLE, htobe64(21));
  nlattr* v = mnl_attr_nest_start(nlh, NFTA_TRACE_VERDICT);
  mnl_attr_put_u32(nlh, NFTA_VERDICT_CODE, htonl(static_cast<uint32_t>(NFT_JUMP)));
  mnl_attr_put_strz(nlh, NFTA_VERDICT_CHAIN, "istio-redirect");
  mnl_attr_nest_end(nlh, v);
  mnl_attr_put_u32(nlh, NFTA_TRACE_NFPROTO, htonl(NFPROTO_IPV4));
  mnl_attr_put_u32(nlh, NFTA_TRACE_OIF, htonl(1));  // lo, in every namespace
  NftTraceEvent e;
  REQUIRE(parse_trace_message(nlh, e));
  CHECK(e.type == NftTraceEvent::Type::rule);
  CHECK(e.id == 0x1234);
  CHECK(e.table == "istio-proxy-nat");
  CHECK(e.chain == "istio-output");
  REQUIRE(e.handle);
  CHECK(*e.handle == 21);
  CHECK(e.verdict == NFT_JUMP);
  CHECK(e.jump_target == "istio-redirect");
  CHECK(e.oif == 1);
  CHECK(e.oifname == "lo");
}

TEST_CASE("nft trace: a policy event, and a message that is no trace") {
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* nlh = trace_header(buf, NFT_MSG_TRACE);
  mnl_attr_put_strz(nlh, NFTA_TRACE_TABLE, "istio-proxy-nat");
  mnl_attr_put_strz(nlh, NFTA_TRACE_CHAIN, "output");
  mnl_attr_put_u32(nlh, NFTA_TRACE_ID, htonl(7));
  mnl_attr_put_u32(nlh, NFTA_TRACE_TYPE, htonl(NFT_TRACETYPE_POLICY));
  mnl_attr_put_u32(nlh, NFTA_TRACE_POLICY, htonl(NF_DROP));
  NftTraceEvent e;
  REQUIRE(parse_trace_message(nlh, e));
  CHECK(e.type == NftTraceEvent::Type::policy);
  CHECK(e.policy == NF_DROP);
  CHECK(!e.handle);
  nlmsghdr* other = trace_header(buf, NFT_MSG_NEWTABLE);
  CHECK(!parse_trace_message(other, e));
}
