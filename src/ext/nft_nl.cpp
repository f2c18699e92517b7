// Building blocks of the netlink form (see nft_nl.h).
#include "ext/nft_nl.h"

#include <algorithm>
#include <utility>

#include "base/parse.h"

namespace snare::nl {
namespace {

constexpr size_t kIfNameSize = 16;  // IFNAMSIZ

void push_u32(NlBytes& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// One nftnl udata attribute: type, length, value.
void udata(NlBytes& out, uint8_t type, const NlBytes& value) {
  out.push_back(type);
  out.push_back(static_cast<uint8_t>(value.size()));
  out.insert(out.end(), value.begin(), value.end());
}

constexpr uint32_t kByteorderBigEndian = 2;  // nft's BYTEORDER_BIG_ENDIAN
enum : uint8_t {
  kUdataKeyByteorder = 0,   // NFTNL_UDATA_SET_KEYBYTEORDER
  kUdataMergeElements = 2,  // NFTNL_UDATA_SET_MERGE_ELEMENTS
  kUdataKeyTypeof = 3,      // NFTNL_UDATA_SET_KEY_TYPEOF
  kUdataComment = 7,        // NFTNL_UDATA_SET_COMMENT
};

}  // namespace

NlBytes be16(uint16_t v) { return {static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)}; }

NlBytes host16(uint16_t v) { return {static_cast<uint8_t>(v), static_cast<uint8_t>(v >> 8)}; }

NlBytes host32(uint32_t v) {
  NlBytes out;
  push_u32(out, v);
  return out;
}

NlBytes iface_bytes(const std::string& name) {
  // Why no NUL for a wildcard: nft compares only the prefix's bytes, so "eth+" matches eth0.
  if (!name.empty() && name.back() == '+') return NlBytes(name.begin(), name.end() - 1);
  NlBytes out(name.begin(), name.end());
  out.resize(std::max(kIfNameSize, out.size()), 0);
  return out;
}

uint8_t proto_number(const std::string& name) {
  if (name == "tcp") return 6;
  if (name == "udp") return 17;
  const Parsed<uint32_t> n = parse_u32(name);
  return n.ok() && n.value < 256 ? static_cast<uint8_t>(n.value) : 0;
}

NlExpr meta_load(uint32_t key) { return NlMetaLoad{key, kReg1}; }
NlExpr ct_load(uint32_t key) { return NlCtLoad{key, kReg1}; }
NlExpr cmp(bool invert, NlBytes data) {
  return NlCmp{invert ? kCmpNeq : kCmpEq, kReg1, std::move(data)};
}
NlExpr payload(uint32_t base, uint32_t offset, uint32_t len) {
  return NlPayloadLoad{base, offset, len, kReg1};
}
NlExpr bitwise(NlBytes mask, NlBytes xor_) {
  const auto len = static_cast<uint32_t>(mask.size());
  return NlBitwise{kReg1, kReg1, len, std::move(mask), std::move(xor_)};
}
NlExpr immediate(NlBytes data) { return NlImmediate{kReg1, std::move(data)}; }

void need_nfproto(const NftContext& ctx, bool v6, std::vector<NlExpr>& out) {
  const uint32_t proto = v6 ? kNfprotoIpv6 : kNfprotoIpv4;
  if (ctx.nl_deps && ctx.nl_deps->nfproto == proto) return;
  out.push_back(meta_load(kMetaNfproto));
  out.push_back(cmp(false, {static_cast<uint8_t>(proto)}));
  if (ctx.nl_deps) ctx.nl_deps->nfproto = proto;
}

void need_l4proto(const NftContext& ctx, const std::string& proto, std::vector<NlExpr>& out) {
  const uint8_t p = proto_number(proto);
  if (ctx.nl_deps && ctx.nl_deps->l4proto == p) return;
  l4proto_match(ctx, proto, out);
}

void l4proto_match(const NftContext& ctx, const std::string& proto, std::vector<NlExpr>& out) {
  const uint8_t p = proto_number(proto);
  out.push_back(meta_load(kMetaL4proto));
  out.push_back(cmp(false, {p}));
  if (ctx.nl_deps) ctx.nl_deps->l4proto = p;
}

void addr_match(const NftContext& ctx, bool source, bool invert, const std::string& cidr,
                std::vector<NlExpr>& out) {
  Parsed<Prefix> p = parse_prefix(cidr);
  if (!p.ok()) {
    // A bare address is a full-length prefix.
    const Parsed<IpAddr> a = parse_ip(cidr);
    p.value.addr = a.value;
    p.value.len = a.value.v6 ? 128 : 32;
  }
  const bool v6 = p.value.addr.v6;
  need_nfproto(ctx, v6, out);
  const uint32_t size = v6 ? 16 : 4;
  const uint32_t offset = v6 ? (source ? 8 : 24) : (source ? 12 : 16);
  const uint32_t bits = p.value.len;
  NlBytes addr(p.value.addr.bytes.begin(), p.value.addr.bytes.begin() + size);
  NlBytes mask(size, 0);
  for (uint32_t i = 0; i < bits; ++i) mask[i / 8] |= static_cast<uint8_t>(0x80u >> (i % 8));
  for (uint32_t i = 0; i < size; ++i) addr[i] &= mask[i];
  // Why shorter loads: nft loads only a byte-aligned prefix's bytes (10.0.0.0/8: 1 byte) and
  // masks any other prefix (or /0) with a bitwise over the whole address.
  if (bits > 0 && bits % 8 == 0) {
    out.push_back(payload(kBaseNetwork, offset, bits / 8));
    addr.resize(bits / 8);
  } else {
    out.push_back(payload(kBaseNetwork, offset, size));
    out.push_back(bitwise(mask, NlBytes(size, 0)));
  }
  out.push_back(cmp(invert, std::move(addr)));
}

void addr_lookup(const NftContext& ctx, bool v6, bool source, const std::string& set,
                 std::vector<NlExpr>& out) {
  need_nfproto(ctx, v6, out);
  out.push_back(payload(kBaseNetwork, v6 ? (source ? 8 : 24) : (source ? 12 : 16), v6 ? 16 : 4));
  out.push_back(NlLookup{kReg1, 0, set, std::nullopt});
}

void masked_match(NlExpr load, bool invert, const std::string& mark, std::vector<NlExpr>& out) {
  const Mark m = parse_mark(mark).value;
  out.push_back(std::move(load));
  if (mark.find('/') != std::string::npos) out.push_back(bitwise(host32(m.mask), host32(0)));
  out.push_back(cmp(invert, host32(m.value)));
}

NlExpr port_lookup(const std::string& proto, bool invert, const std::vector<std::string>& ports) {
  NlSet set;
  set.name = "__set%d";  // nft's template: the kernel names it
  set.flags = kSetAnonymous | kSetConstant;
  set.key_type = kTypeInetService;
  set.key_len = 2;
  std::vector<PortRange> ranges;
  for (const std::string& p : ports) ranges.push_back(parse_port_range(p).value);
  const bool interval =
      std::any_of(ranges.begin(), ranges.end(), [](const PortRange& r) { return r.lo != r.hi; });
  if (!interval) {
    for (const PortRange& r : ranges) set.elements.push_back({be16(r.lo), 0});
  } else {
    // An interval set holds each range as its start and the end's successor (flagged), from
    // 0 on (a gap before the first range is an end), sorted.
    set.flags |= kSetInterval;
    std::sort(ranges.begin(), ranges.end(),
              [](const PortRange& a, const PortRange& b) { return a.lo < b.lo; });
    if (ranges.front().lo > 0) set.elements.push_back({be16(0), kSetElemIntervalEnd});
    for (const PortRange& r : ranges) {
      set.elements.push_back({be16(r.lo), 0});
      if (r.hi < 0xffff)
        set.elements.push_back({be16(static_cast<uint16_t>(r.hi + 1)), kSetElemIntervalEnd});
    }
  }
  set.size = static_cast<uint32_t>(set.elements.size());
  set.userdata = port_set_userdata(proto, interval);
  return NlLookup{kReg1, invert ? kLookupInvert : 0u, "", std::move(set)};
}

NlBytes set_userdata(bool big_endian_key, const std::string& comment) {
  NlBytes out;
  udata(out, kUdataKeyByteorder, host32(big_endian_key ? kByteorderBigEndian : 1));
  if (!comment.empty()) {
    NlBytes text(comment.begin(), comment.end());
    text.push_back(0);
    udata(out, kUdataComment, text);
  }
  return out;
}

NlBytes port_set_userdata(const std::string& proto, bool interval) {
  // `typeof tcp dport`: a payload expression (7), its protocol (nft's description number: tcp
  // 8, udp 6) and field (dport 2), as nested attributes.
  const uint8_t desc = proto == "udp" ? 6 : 8;
  NlBytes data;
  udata(data, 0, host32(desc));
  udata(data, 1, host32(2));
  NlBytes key;
  udata(key, 0, host32(7));
  udata(key, 1, data);
  NlBytes out;
  udata(out, kUdataKeyByteorder, host32(kByteorderBigEndian));
  if (interval) udata(out, kUdataMergeElements, host32(1));
  udata(out, kUdataKeyTypeof, key);
  return out;
}

}  // namespace snare::nl
