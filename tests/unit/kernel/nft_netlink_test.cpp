// kernel/nft_netlink's pure parts: every NlExpr through libnftnl's netlink encoding and back
// (no kernel), unknown expressions, and the sequence-number-to-operation map of a batch's errors.
#include "kernel/nft_netlink.h"

#include <libnftnl/common.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>

#include <catch2/catch.hpp>
#include <vector>

#include "kernel/nft_netlink_expr.h"

namespace snare {
namespace {

// The expressions as a NEWRULE message's payload, parsed back as the reader parses a dump.
NlRule round_trip(const std::vector<NlExpr>& exprs, uint32_t set_id = 0) {
  std::vector<char> buf(1 << 16);
  nftnl_rule* r = nftnl_rule_alloc();
  nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
  nftnl_rule_set_str(r, NFTNL_RULE_TABLE, "t");
  nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, "c");
  for (const NlExpr& e : exprs) nftnl_rule_add_expr(r, nl_expr_to_nftnl(e, set_id));
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf.data(), NFT_MSG_NEWRULE, NFPROTO_INET, 0, 1);
  nftnl_rule_nlmsg_build_payload(nlh, r);
  nftnl_rule_free(r);
  nftnl_rule* back = nftnl_rule_alloc();
  REQUIRE(nftnl_rule_nlmsg_parse(nlh, back) == 0);
  NlRule rule;
  nl_rule_exprs_from_nftnl(back, rule);
  nftnl_rule_free(back);
  return rule;
}

}  // namespace

TEST_CASE("nft_netlink: every expression kind reads back as written through nftnl") {
  const std::vector<NlExpr> all = {
      NlMetaLoad{NFT_META_L4PROTO, NFT_REG_1},
      NlMetaSet{NFT_META_MARK, NFT_REG_1},
      NlCtLoad{NFT_CT_MARK, NFT_REG_1},
      NlCtSet{NFT_CT_ZONE, NFT_REG_1},
      NlPayloadLoad{NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG_1},
      NlCmp{NFT_CMP_NEQ, NFT_REG_1, {127, 0, 0, 1}},
      NlBitwise{NFT_REG_1, NFT_REG_1, 4, {0xff, 0, 0, 0}, {0, 0, 0, 0}},
      NlImmediate{NFT_REG_1, {0x3a, 0x99}},
      NlVerdict{NFT_JUMP, "istio-redirect"},
      NlVerdict{NF_ACCEPT, ""},
      NlVerdict{NFT_RETURN, ""},
      NlCounter{},
      NlRedir{NFT_REG_1, 0, NF_NAT_RANGE_PROTO_SPECIFIED},
      NlTproxy{NFPROTO_IPV4, 0, NFT_REG_1},
      NlNat{NFT_NAT_SNAT, NFPROTO_IPV4, NFT_REG_1, 0, NFT_REG_2, 0, NF_NAT_RANGE_PROTO_SPECIFIED},
      NlLookup{NFT_REG_1, NFT_LOOKUP_F_INV, "probe4", std::nullopt},
  };
  const NlRule back = round_trip(all);
  CHECK(back.unknown.empty());
  CHECK(back.exprs == all);
}

TEST_CASE("nft_netlink: a lookup of an anonymous set refers to it by nft's name and set id") {
  NlSet s;
  s.flags = NFT_SET_ANONYMOUS | NFT_SET_CONSTANT;
  s.key_len = 2;
  NlLookup l{NFT_REG_1, 0, "", s};
  nftnl_expr* e = nl_expr_to_nftnl(l, 7);
  CHECK(std::string(nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET)) == kAnonSetName);
  CHECK(nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_SET_ID) == 7);
  nftnl_expr_free(e);
  // Read back it names the set; the reader puts the dumped set in its place.
  const NlRule back = round_trip({l}, 7);
  REQUIRE(back.exprs.size() == 1);
  CHECK(std::get<NlLookup>(back.exprs[0]).set == kAnonSetName);
}

TEST_CASE("nft_netlink: what the kernel adds to nat and redir reads back as nft writes it") {
  nftnl_rule* r = nftnl_rule_alloc();
  nftnl_expr* nat = nftnl_expr_alloc("nat");
  nftnl_expr_set_u32(nat, NFTNL_EXPR_NAT_TYPE, NFT_NAT_SNAT);
  nftnl_expr_set_u32(nat, NFTNL_EXPR_NAT_FAMILY, NFPROTO_IPV4);
  nftnl_expr_set_u32(nat, NFTNL_EXPR_NAT_REG_ADDR_MIN, 1);
  nftnl_expr_set_u32(nat, NFTNL_EXPR_NAT_REG_ADDR_MAX, 1);
  nftnl_expr_set_u32(nat, NFTNL_EXPR_NAT_FLAGS, NF_NAT_RANGE_MAP_IPS);
  nftnl_rule_add_expr(r, nat);
  nftnl_expr* redir = nftnl_expr_alloc("redir");
  nftnl_expr_set_u32(redir, NFTNL_EXPR_REDIR_REG_PROTO_MIN, 1);
  nftnl_expr_set_u32(redir, NFTNL_EXPR_REDIR_REG_PROTO_MAX, 1);
  nftnl_expr_set_u32(redir, NFTNL_EXPR_REDIR_FLAGS, NF_NAT_RANGE_PROTO_SPECIFIED);
  nftnl_rule_add_expr(r, redir);
  NlRule rule;
  nl_rule_exprs_from_nftnl(r, rule);
  nftnl_rule_free(r);
  CHECK(rule.exprs == std::vector<NlExpr>{NlNat{NFT_NAT_SNAT, NFPROTO_IPV4, 1, 0, 0, 0, 0},
                                          NlRedir{1, 0, NF_NAT_RANGE_PROTO_SPECIFIED}});
}

TEST_CASE("nft_netlink: an expression the model does not hold marks the rule unequal") {
  nftnl_rule* r = nftnl_rule_alloc();
  nftnl_rule_add_expr(r, nl_expr_to_nftnl(NlCounter{}, 0));
  nftnl_rule_add_expr(r, nftnl_expr_alloc("log"));
  nftnl_expr* ct = nftnl_expr_alloc("ct");  // `ct original saddr`: a direction
  nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_KEY, NFT_CT_SRC);
  nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_DREG, NFT_REG_1);
  nftnl_expr_set_u8(ct, NFTNL_EXPR_CT_DIR, 0);
  nftnl_rule_add_expr(r, ct);
  NlRule rule;
  nl_rule_exprs_from_nftnl(r, rule);
  nftnl_rule_free(r);
  CHECK(rule.unknown == "log, ct");
  NlRule written;
  written.exprs = {NlCounter{}};
  CHECK(rule.exprs == written.exprs);
  CHECK_FALSE(rule == written);
}

TEST_CASE("nft_netlink: a kernel error names the operation of its sequence number") {
  NlSeqMap map;
  map.add(101, "add table inet istio-proxy-nat");
  map.add(102, "add rule inet istio-proxy-nat istio-output tcp dport 15001 return");
  CHECK(map.what(102) == "add rule inet istio-proxy-nat istio-output tcp dport 15001 return");
  CHECK(map.what(100) == "the batch");
  CHECK(nl_error_text(EOPNOTSUPP, map.what(102)) ==
        "nftables: Operation not supported: add rule inet istio-proxy-nat istio-output tcp dport "
        "15001 return");
  CHECK(std::string(nl_family_name(NFPROTO_IPV6)) == "ip6");
}

}  // namespace snare
