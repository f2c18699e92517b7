// The netlink form of nftables tables: the objects and expressions nf_tables itself holds, as
// the kernel receives them in a batch and dumps them back (NFT_MSG_NEW* / NFT_MSG_GET*), one
// struct per expression kind with the attributes that expression carries. It is plain data:
//
//   - the extensions' nft_nl forms (ext/) write a plan's rules in it, the expressions nft itself
//     would send for istio's text (`nft --debug=netlink -f` shows them);
//   - the kernel layer (kernel/nft_netlink) turns it into libnftnl objects for one batch, and the
//     kernel's dump back into it;
//   - the apply, the re-run check and verify compare the two as values.
//
// Numbers are the kernel's (linux/netfilter/nf_tables.h: NFT_META_*, NFT_PAYLOAD_*, NFT_CMP_*,
// NFT_REG_*, verdict codes), data in the byte order the kernel compares it in. A counter carries
// no numbers: its packets and bytes are state, not meaning. Handles are absent for the same reason.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace snare {

using NlBytes = std::vector<uint8_t>;

struct NlMetaLoad {  // meta load KEY => reg DREG
  uint32_t key = 0, dreg = 0;
  bool operator==(const NlMetaLoad&) const = default;
};
struct NlMetaSet {  // meta set KEY with reg SREG
  uint32_t key = 0, sreg = 0;
  bool operator==(const NlMetaSet&) const = default;
};
struct NlCtLoad {  // ct load KEY => reg DREG
  uint32_t key = 0, dreg = 0;
  bool operator==(const NlCtLoad&) const = default;
};
struct NlCtSet {  // ct set KEY with reg SREG
  uint32_t key = 0, sreg = 0;
  bool operator==(const NlCtSet&) const = default;
};
struct NlPayloadLoad {  // payload load LENb @ BASE header + OFFSET => reg DREG
  uint32_t base = 0, offset = 0, len = 0, dreg = 0;
  bool operator==(const NlPayloadLoad&) const = default;
};
struct NlCmp {  // cmp OP reg SREG DATA
  uint32_t op = 0, sreg = 0;
  NlBytes data;
  bool operator==(const NlCmp&) const = default;
};
struct NlBitwise {  // bitwise reg DREG = (reg SREG & MASK) ^ XOR, LEN bytes
  uint32_t sreg = 0, dreg = 0, len = 0;
  NlBytes mask, xor_;
  bool operator==(const NlBitwise&) const = default;
};
struct NlImmediate {  // immediate reg DREG DATA (a value, not a verdict)
  uint32_t dreg = 0;
  NlBytes data;
  bool operator==(const NlImmediate&) const = default;
};
struct NlVerdict {  // immediate reg 0 CODE [-> CHAIN]: accept, drop, return, jump, goto
  int32_t code = 0;
  std::string chain;  // jump and goto only
  bool operator==(const NlVerdict&) const = default;
};
struct NlCounter {
  bool operator==(const NlCounter&) const = default;
};
struct NlRedir {  // redir proto_min reg R [flags F]
  uint32_t reg_proto_min = 0, reg_proto_max = 0, flags = 0;
  bool operator==(const NlRedir&) const = default;
};
struct NlTproxy {  // tproxy FAMILY [addr reg A] port reg P (0: absent)
  uint32_t family = 0, reg_addr = 0, reg_port = 0;
  bool operator==(const NlTproxy&) const = default;
};
struct NlNat {  // snat/dnat FAMILY addr reg A [proto reg P] [flags F] (0: absent)
  uint32_t type = 0, family = 0, reg_addr_min = 0, reg_addr_max = 0, reg_proto_min = 0,
           reg_proto_max = 0, flags = 0;
  bool operator==(const NlNat&) const = default;
};

struct NlSetElem {
  NlBytes key;
  uint32_t flags = 0;  // NFT_SET_ELEM_INTERVAL_END for an interval set's closing element
  bool operator==(const NlSetElem&) const = default;
};
// A set: a named one of a table (ambient-host's probe sets, members not part of the form), or an
// anonymous one a rule's lookup carries (`tcp dport { 53, 15002 }`), elements included; its
// name is the kernel's (`__set0`) and not compared.
struct NlSet {
  std::string name;
  uint32_t flags = 0;  // NFT_SET_ANONYMOUS, NFT_SET_CONSTANT, NFT_SET_INTERVAL, ...
  uint32_t key_type = 0, key_len = 0;
  uint32_t size = 0;  // NFTA_SET_DESC_SIZE: nft gives an anonymous set its element count
  NlBytes userdata;   // nft's: key byte order, comment...  // nft's: key byte order, comment
  std::vector<NlSetElem> elements;
  bool anonymous() const { return flags & 0x1; }  // NFT_SET_ANONYMOUS
  // Anonymous sets compare by content, the kernel's name aside; named ones by name too.
  bool operator==(const NlSet& o) const {
    return (anonymous() || name == o.name) && flags == o.flags && key_type == o.key_type &&
           key_len == o.key_len && size == o.size && userdata == o.userdata &&
           elements == o.elements;
  }
};
struct NlLookup {                // lookup reg SREG set NAME [flags F]
  uint32_t sreg = 0, flags = 0;  // NFT_LOOKUP_F_INV
  std::string set;               // a named set; empty when `anonymous` holds the set
  std::optional<NlSet> anonymous;
  bool operator==(const NlLookup&) const = default;
};

using NlExpr =
    std::variant<NlMetaLoad, NlMetaSet, NlCtLoad, NlCtSet, NlPayloadLoad, NlCmp, NlBitwise,
                 NlImmediate, NlVerdict, NlCounter, NlRedir, NlTproxy, NlNat, NlLookup>;

struct NlRule {
  std::vector<NlExpr> exprs;
  // What the rule is in istio's text (`add rule inet T C ...`): not compared; kernel errors
  // name the failing rule by it. Empty for a rule read back.
  std::string label;
  // A rule read back: the expression kinds the model does not hold ("match", "ct dir", ...), in
  // the rule's order, their expressions left out of `exprs`. A written rule has none, so a rule
  // with one compares unequal to every written rule.
  std::string unknown;
  uint64_t handle = 0;  // the kernel's, for a rule read back (NlDeleteRule); not compared
  bool operator==(const NlRule& o) const { return exprs == o.exprs && unknown == o.unknown; }
};

struct NlChain {
  std::string name;
  bool base = false;
  std::string type;   // "nat", "filter", "route" (base chains)
  uint32_t hook = 0;  // NF_INET_* (base chains)
  int32_t priority = 0;
  std::optional<uint32_t> policy;  // NF_ACCEPT/NF_DROP when the chain has one
  std::string device;              // a netdev/ingress chain's; istio's have none
  std::vector<NlRule> rules;
  bool operator==(const NlChain&) const = default;
};

struct NlTable {
  std::string name;
  uint32_t family = 0;          // NFPROTO_INET, NFPROTO_IPV4, ...
  uint32_t flags = 0;           // NFT_TABLE_F_*: a dormant table captures nothing
  std::vector<NlChain> chains;  // in istio's order
  std::vector<NlSet> sets;      // named sets, members aside
  // Every other object (counter, quota, map, flowtable...) as "KIND NAME": istio's tables hold
  // none, so any one is drift.
  std::vector<std::string> objects;
  bool operator==(const NlTable&) const = default;
};

using NlForm = std::vector<NlTable>;

// A family as nft names it ("inet", "ip", "ip6", "arp", "bridge", "netdev"), else "unknown".
const char* nl_family_name(uint32_t family);
// A hook as nft names it (NF_INET_*: "prerouting", "input", "forward", "output", "postrouting"),
// else "?".
const char* nl_hook_name(uint32_t hook);

// The form two reads of the same tables share whatever order the kernel or the plan gave them:
// tables, chains, sets and objects by name (their order means nothing to the kernel), rules
// in order (their order is what a chain does).
NlForm netlink_normal_form(NlForm form);

// --- one netlink batch (kernel/nft_backend.h's write_netlink): the kernel applies all of it or
// none, in this order.

// NEWTABLE (no NLM_F_EXCL: an existing table stays, flags untouched), then its named sets (an
// existing one of the same definition stays, members kept), chains and rules (appended), each
// rule's anonymous set just before it.
struct NlAddTable {
  NlTable table;
};
// NEWTABLE then DELTABLE: the table goes whether or not it was there, and the batch cannot fail
// on a table another writer removed meanwhile.
struct NlDeleteTable {
  uint32_t family = 0;
  std::string table;
};
struct NlFlushTable {  // every rule of every chain (DELRULE with the table only)
  uint32_t family = 0;
  std::string table;
};
struct NlFlushChain {
  uint32_t family = 0;
  std::string table, chain;
};
struct NlDeleteChain {
  uint32_t family = 0;
  std::string table, chain;
};
struct NlDeleteRule {  // by handle: iptables-nft's rules (xt expressions) have no other name
  uint32_t family = 0;
  std::string table, chain;
  uint64_t handle = 0;
};
struct NlDeleteObject {  // "set", or another object kind as NlTable::objects names it
  uint32_t family = 0;
  std::string table, kind, name;
};
using NlOp = std::variant<NlAddTable, NlDeleteTable, NlFlushTable, NlFlushChain, NlDeleteChain,
                          NlDeleteRule, NlDeleteObject>;
using NlBatch = std::vector<NlOp>;

}  // namespace snare
