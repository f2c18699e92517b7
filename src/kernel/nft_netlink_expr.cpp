// NlExpr <-> nftnl_expr (see nft_netlink_expr.h).
#include "kernel/nft_netlink_expr.h"

#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>

#include <string_view>

namespace snare {
namespace {

// Builds one nftnl expression per NlExpr alternative. std::visit needs an overload for every
// alternative: a new one without a conversion does not compile.
struct ToNftnl {
  uint32_t anon_set_id;

  static nftnl_expr* make(const char* name) { return nftnl_expr_alloc(name); }
  static void data(nftnl_expr* e, uint16_t attr, const NlBytes& b) {
    nftnl_expr_set(e, attr, b.data(), static_cast<uint32_t>(b.size()));
  }
  // The model's 0 means "absent" for optional registers and flags: nft sends no attribute then.
  static void opt(nftnl_expr* e, uint16_t attr, uint32_t v) {
    if (v) nftnl_expr_set_u32(e, attr, v);
  }

  nftnl_expr* operator()(const NlMetaLoad& m) const {
    nftnl_expr* e = make("meta");
    nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, m.key);
    nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, m.dreg);
    return e;
  }
  nftnl_expr* operator()(const NlMetaSet& m) const {
    nftnl_expr* e = make("meta");
    nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, m.key);
    nftnl_expr_set_u32(e, NFTNL_EXPR_META_SREG, m.sreg);
    return e;
  }
  nftnl_expr* operator()(const NlCtLoad& c) const {
    nftnl_expr* e = make("ct");
    nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, c.key);
    nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, c.dreg);
    return e;
  }
  nftnl_expr* operator()(const NlCtSet& c) const {
    nftnl_expr* e = make("ct");
    nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, c.key);
    nftnl_expr_set_u32(e, NFTNL_EXPR_CT_SREG, c.sreg);
    return e;
  }
  nftnl_expr* operator()(const NlPayloadLoad& p) const {
    nftnl_expr* e = make("payload");
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, p.base);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, p.offset);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, p.len);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, p.dreg);
    return e;
  }
  nftnl_expr* operator()(const NlCmp& c) const {
    nftnl_expr* e = make("cmp");
    nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, c.sreg);
    nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, c.op);
    data(e, NFTNL_EXPR_CMP_DATA, c.data);
    return e;
  }
  nftnl_expr* operator()(const NlBitwise& b) const {
    nftnl_expr* e = make("bitwise");
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, b.sreg);
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, b.dreg);
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, b.len);
    data(e, NFTNL_EXPR_BITWISE_MASK, b.mask);
    data(e, NFTNL_EXPR_BITWISE_XOR, b.xor_);
    return e;
  }
  nftnl_expr* operator()(const NlImmediate& i) const {
    nftnl_expr* e = make("immediate");
    nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, i.dreg);
    data(e, NFTNL_EXPR_IMM_DATA, i.data);
    return e;
  }
  nftnl_expr* operator()(const NlVerdict& v) const {
    nftnl_expr* e = make("immediate");
    nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
    nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, static_cast<uint32_t>(v.code));
    if (!v.chain.empty()) nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, v.chain.c_str());
    return e;
  }
  nftnl_expr* operator()(const NlCounter&) const { return make("counter"); }
  nftnl_expr* operator()(const NlRedir& r) const {
    nftnl_expr* e = make("redir");
    opt(e, NFTNL_EXPR_REDIR_REG_PROTO_MIN, r.reg_proto_min);
    opt(e, NFTNL_EXPR_REDIR_REG_PROTO_MAX, r.reg_proto_max);
    opt(e, NFTNL_EXPR_REDIR_FLAGS, r.flags);
    return e;
  }
  nftnl_expr* operator()(const NlTproxy& t) const {
    nftnl_expr* e = make("tproxy");
    opt(e, NFTNL_EXPR_TPROXY_FAMILY, t.family);
    opt(e, NFTNL_EXPR_TPROXY_REG_ADDR, t.reg_addr);
    opt(e, NFTNL_EXPR_TPROXY_REG_PORT, t.reg_port);
    return e;
  }
  nftnl_expr* operator()(const NlNat& n) const {
    nftnl_expr* e = make("nat");
    nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, n.type);
    nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, n.family);
    opt(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, n.reg_addr_min);
    opt(e, NFTNL_EXPR_NAT_REG_ADDR_MAX, n.reg_addr_max);
    opt(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, n.reg_proto_min);
    opt(e, NFTNL_EXPR_NAT_REG_PROTO_MAX, n.reg_proto_max);
    opt(e, NFTNL_EXPR_NAT_FLAGS, n.flags);
    return e;
  }
  nftnl_expr* operator()(const NlLookup& l) const {
    nftnl_expr* e = make("lookup");
    nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, l.sreg);
    if (l.anonymous) {
      nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, kAnonSetName);
      nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, anon_set_id);
    } else {
      nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, l.set.c_str());
    }
    opt(e, NFTNL_EXPR_LOOKUP_FLAGS, l.flags);
    return e;
  }
};

NlBytes bytes(const nftnl_expr* e, uint16_t attr) {
  uint32_t len = 0;
  const auto* p = static_cast<const uint8_t*>(nftnl_expr_get(e, attr, &len));
  return p ? NlBytes(p, p + len) : NlBytes{};
}
uint32_t u32(const nftnl_expr* e, uint16_t attr) { return nftnl_expr_get_u32(e, attr); }
bool has(const nftnl_expr* e, uint16_t attr) { return nftnl_expr_is_set(e, attr); }

// The reading side, kind by kind. Each returns false for a form the model does not hold.
bool meta_from(const nftnl_expr* e, NlExpr& out) {
  if (has(e, NFTNL_EXPR_META_DREG))
    out = NlMetaLoad{u32(e, NFTNL_EXPR_META_KEY), u32(e, NFTNL_EXPR_META_DREG)};
  else
    out = NlMetaSet{u32(e, NFTNL_EXPR_META_KEY), u32(e, NFTNL_EXPR_META_SREG)};
  return true;
}
bool ct_from(const nftnl_expr* e, NlExpr& out) {
  // The model's ct expressions have no direction (`ct original saddr`): one that has is unknown.
  if (has(e, NFTNL_EXPR_CT_DIR)) return false;
  if (has(e, NFTNL_EXPR_CT_DREG))
    out = NlCtLoad{u32(e, NFTNL_EXPR_CT_KEY), u32(e, NFTNL_EXPR_CT_DREG)};
  else
    out = NlCtSet{u32(e, NFTNL_EXPR_CT_KEY), u32(e, NFTNL_EXPR_CT_SREG)};
  return true;
}
bool payload_from(const nftnl_expr* e, NlExpr& out) {
  if (!has(e, NFTNL_EXPR_PAYLOAD_DREG)) return false;  // a payload write (`ip dscp set`)
  out = NlPayloadLoad{u32(e, NFTNL_EXPR_PAYLOAD_BASE), u32(e, NFTNL_EXPR_PAYLOAD_OFFSET),
                      u32(e, NFTNL_EXPR_PAYLOAD_LEN), u32(e, NFTNL_EXPR_PAYLOAD_DREG)};
  return true;
}
bool bitwise_from(const nftnl_expr* e, NlExpr& out) {
  // Only the mask-and-xor form (NFT_BITWISE_BOOL); shifts are not in the model.
  if (has(e, NFTNL_EXPR_BITWISE_OP) && u32(e, NFTNL_EXPR_BITWISE_OP) != 0) return false;
  out = NlBitwise{u32(e, NFTNL_EXPR_BITWISE_SREG), u32(e, NFTNL_EXPR_BITWISE_DREG),
                  u32(e, NFTNL_EXPR_BITWISE_LEN), bytes(e, NFTNL_EXPR_BITWISE_MASK),
                  bytes(e, NFTNL_EXPR_BITWISE_XOR)};
  return true;
}
bool immediate_from(const nftnl_expr* e, NlExpr& out) {
  if (u32(e, NFTNL_EXPR_IMM_DREG) != NFT_REG_VERDICT) {
    out = NlImmediate{u32(e, NFTNL_EXPR_IMM_DREG), bytes(e, NFTNL_EXPR_IMM_DATA)};
    return true;
  }
  NlVerdict v{static_cast<int32_t>(u32(e, NFTNL_EXPR_IMM_VERDICT)), {}};
  if (has(e, NFTNL_EXPR_IMM_CHAIN)) v.chain = nftnl_expr_get_str(e, NFTNL_EXPR_IMM_CHAIN);
  out = std::move(v);
  return true;
}
bool lookup_from(const nftnl_expr* e, NlExpr& out) {
  if (has(e, NFTNL_EXPR_LOOKUP_DREG)) return false;  // a map lookup
  NlLookup l;
  l.sreg = u32(e, NFTNL_EXPR_LOOKUP_SREG);
  l.flags = u32(e, NFTNL_EXPR_LOOKUP_FLAGS);
  if (const char* s = nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET)) l.set = s;
  out = std::move(l);
  return true;
}

// The kernel fills in what nft leaves out: a missing maximum register is the minimum's, and
// NF_NAT_RANGE_MAP_IPS follows from an address register. Read back, they are left out again, so
// that a rule reads as nft (and the model) writes it.
uint32_t no_copy(uint32_t max, uint32_t min) { return max == min ? 0 : max; }
bool nat_from(const nftnl_expr* e, NlExpr& out) {
  NlNat n{u32(e, NFTNL_EXPR_NAT_TYPE),          u32(e, NFTNL_EXPR_NAT_FAMILY),
          u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN),  u32(e, NFTNL_EXPR_NAT_REG_ADDR_MAX),
          u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN), u32(e, NFTNL_EXPR_NAT_REG_PROTO_MAX),
          u32(e, NFTNL_EXPR_NAT_FLAGS)};
  n.reg_addr_max = no_copy(n.reg_addr_max, n.reg_addr_min);
  n.reg_proto_max = no_copy(n.reg_proto_max, n.reg_proto_min);
  if (n.reg_addr_min) n.flags &= ~static_cast<uint32_t>(NF_NAT_RANGE_MAP_IPS);
  out = n;
  return true;
}

bool expr_from(const nftnl_expr* e, std::string_view kind, NlExpr& out) {
  if (kind == "meta") return meta_from(e, out);
  if (kind == "ct") return ct_from(e, out);
  if (kind == "payload") return payload_from(e, out);
  if (kind == "cmp") {
    out = NlCmp{u32(e, NFTNL_EXPR_CMP_OP), u32(e, NFTNL_EXPR_CMP_SREG),
                bytes(e, NFTNL_EXPR_CMP_DATA)};
    return true;
  }
  if (kind == "bitwise") return bitwise_from(e, out);
  if (kind == "immediate") return immediate_from(e, out);
  if (kind == "counter") {
    out = NlCounter{};
    return true;
  }
  if (kind == "redir") {
    out = NlRedir{
        u32(e, NFTNL_EXPR_REDIR_REG_PROTO_MIN),
        no_copy(u32(e, NFTNL_EXPR_REDIR_REG_PROTO_MAX), u32(e, NFTNL_EXPR_REDIR_REG_PROTO_MIN)),
        u32(e, NFTNL_EXPR_REDIR_FLAGS)};
    return true;
  }
  if (kind == "tproxy") {
    out = NlTproxy{u32(e, NFTNL_EXPR_TPROXY_FAMILY), u32(e, NFTNL_EXPR_TPROXY_REG_ADDR),
                   u32(e, NFTNL_EXPR_TPROXY_REG_PORT)};
    return true;
  }
  if (kind == "nat") return nat_from(e, out);
  if (kind == "lookup") return lookup_from(e, out);
  return false;
}

int each_expr(nftnl_expr* e, void* data) {
  auto& rule = *static_cast<NlRule*>(data);
  const char* name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
  const std::string_view kind = name ? name : "?";
  NlExpr x;
  if (expr_from(e, kind, x)) {
    rule.exprs.push_back(std::move(x));
  } else {
    if (!rule.unknown.empty()) rule.unknown += ", ";
    rule.unknown += kind;
  }
  return 0;
}

}  // namespace

nftnl_expr* nl_expr_to_nftnl(const NlExpr& e, uint32_t anon_set_id) {
  return std::visit(ToNftnl{anon_set_id}, e);
}

void nl_rule_exprs_from_nftnl(nftnl_rule* r, NlRule& rule) {
  nftnl_expr_foreach(r, each_expr, &rule);
}

}  // namespace snare
