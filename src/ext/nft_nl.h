// Building blocks of the nf_tables expressions the extensions' nft_nl forms produce
// (model/netlink_form.h): the bytes nft 1.0.6 puts in them for istio's text (big-endian ports
// and addresses, host-order marks and ids, IFNAMSIZ-padded interface names) and the implicit
// dependencies nft adds in an inet table (`meta nfproto ipv4` before `ip daddr`, `meta l4proto
// tcp` before `tcp dport`), once per rule (NlDeps).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ext/ext.h"
#include "model/netlink_form.h"

namespace snare {

// What the rule so far has established, so that nft's implicit dependencies come once: the
// network protocol (an `ip`/`ip6` payload match) and the transport protocol (`meta l4proto`, or
// a port match's own dependency). The dispatcher keeps one per rule (NftContext::nl_deps).
struct NlDeps {
  uint32_t nfproto = 0;  // NFPROTO_IPV4/6 once known
  uint8_t l4proto = 0;   // IPPROTO_* once known
};

namespace nl {

// The kernel's numbers (linux/netfilter/nf_tables.h, netfilter.h).
enum : uint32_t {
  kReg1 = 1,  // NFT_REG_1: nft 1.0.6 puts every value of istio's rules there
  kMetaMark = 3,
  kMetaIifname = 6,
  kMetaOifname = 7,
  kMetaSkuid = 10,
  kMetaSkgid = 11,
  kMetaNfproto = 15,
  kMetaL4proto = 16,
  kCtState = 0,
  kCtMark = 3,
  kCtZone = 17,
  kBaseNetwork = 1,
  kBaseTransport = 2,
  kCmpEq = 0,
  kCmpNeq = 1,
  kCmpLte = 3,
  kCmpGte = 5,
  kNfprotoInet = 1,
  kNfprotoIpv4 = 2,
  kNfprotoIpv6 = 10,
  kSetAnonymous = 0x1,
  kSetConstant = 0x2,
  kSetInterval = 0x4,
  kSetElemIntervalEnd = 0x1,
  kLookupInvert = 0x1,
  kNatSnat = 0,
  kRangeProtoSpecified = 0x2,  // NF_NAT_RANGE_PROTO_SPECIFIED: redir's port is given
  kTypeIpv4Addr = 7,           // nft's datatypes, as a set's key type
  kTypeIpv6Addr = 8,
  kTypeInetService = 13,
};
enum : int32_t { kVerdictDrop = 0, kVerdictAccept = 1, kVerdictJump = -3, kVerdictReturn = -5 };

// Bytes as the kernel compares them.
NlBytes be16(uint16_t v);  // a port
NlBytes host16(uint16_t v);
NlBytes host32(uint32_t v);  // marks, ids, ct state bits
// An interface name as iptables means it: "eth0" is all IFNAMSIZ (16) bytes, zero padded; a
// trailing '+' (prefix wildcard) is the name before it, without its NUL.
NlBytes iface_bytes(const std::string& iptables_name);
// The protocol number of "tcp", "udp" or a number; 0 for anything else.
uint8_t proto_number(const std::string& name);

// `meta load KEY => reg 1`, `cmp OP reg 1 DATA`, ...
NlExpr meta_load(uint32_t key);
NlExpr ct_load(uint32_t key);
NlExpr cmp(bool invert, NlBytes data);
NlExpr payload(uint32_t base, uint32_t offset, uint32_t len);
NlExpr bitwise(NlBytes mask, NlBytes xor_);
NlExpr immediate(NlBytes data);

// nft's dependency of an `ip`/`ip6` match (meta nfproto), unless the rule has it already.
void need_nfproto(const NftContext& ctx, bool v6, std::vector<NlExpr>& out);
// nft's dependency of a port match (meta l4proto), unless the rule has it already.
void need_l4proto(const NftContext& ctx, const std::string& proto, std::vector<NlExpr>& out);
// `meta l4proto P` as written: always sent, and the rule has it from then on.
void l4proto_match(const NftContext& ctx, const std::string& proto, std::vector<NlExpr>& out);

// `ip daddr [!=] CIDR` after its dependency: the payload nft loads (only the prefix's bytes on
// a byte boundary), a bitwise mask for another prefix, the comparison.
void addr_match(const NftContext& ctx, bool source, bool invert, const std::string& cidr,
                std::vector<NlExpr>& out);
// `ip daddr @SET`: the address and a lookup of the table's set.
void addr_lookup(const NftContext& ctx, bool v6, bool source, const std::string& set,
                 std::vector<NlExpr>& out);
// `KEY V` or, with a mask ("V/M"), `KEY and M == V`: a 32-bit host-order value after `load`.
void masked_match(NlExpr load, bool invert, const std::string& mark, std::vector<NlExpr>& out);
// `tcp dport [!=] { a, b-c }`: an anonymous set of inet_service (an interval set when it holds
// a range), as nft sends it with the rule, and its lookup.
NlExpr port_lookup(const std::string& proto, bool invert, const std::vector<std::string>& ports);

// nft's userdata of a set: the key's byte order, and a comment; and of a port set: the byte
// order, for an interval set nft's "merge elements" flag, and the key (`typeof tcp dport`).
NlBytes set_userdata(bool big_endian_key, const std::string& comment);
NlBytes port_set_userdata(const std::string& proto, bool interval);

}  // namespace nl
}  // namespace snare
