// The netlink form as nft's --debug=netlink text (see netlink_text.h).
#include "render/netlink_text.h"

#include <fmt/format.h>

#include <iterator>

namespace snare {
namespace {

// The kernel's 32-bit words of `data`, zero padded, each read in host order (little-endian, as
// nft's debug output prints them on this machine).
std::vector<uint32_t> words(const NlBytes& data) {
  std::vector<uint32_t> out((data.size() + 3) / 4, 0);
  for (size_t i = 0; i < data.size(); ++i) out[i / 4] |= uint32_t{data[i]} << (8 * (i % 4));
  return out;
}

std::string data_text(const NlBytes& data) {
  std::string out;
  for (uint32_t w : words(data)) fmt::format_to(std::back_inserter(out), " 0x{:08x}", w);
  return out;
}

template <size_t N>
const char* name_of(const char* const (&names)[N], uint32_t i) {
  return i < N ? names[i] : "unknown";
}

const char* const kMetaKeys[] = {"len",     "protocol", "priority",    "mark",        "iif",
                                 "oif",     "iifname",  "oifname",     "iiftype",     "oiftype",
                                 "skuid",   "skgid",    "nftrace",     "rtclassid",   "secmark",
                                 "nfproto", "l4proto",  "bri_iifname", "bri_oifname", "pkttype",
                                 "cpu",     "iifgroup", "oifgroup",    "cgroup",      "prandom"};
const char* const kCtKeys[] = {"state",      "direction", "status",     "mark",  "secmark",
                               "expiration", "helper",    "l3protocol", "src",   "dst",
                               "protocol",   "proto_src", "proto_dst",  "label", "packets",
                               "bytes",      "avgpkt",    "zone",       "event"};
const char* const kBases[] = {"link", "network", "transport", "inner"};
const char* const kCmpOps[] = {"eq", "neq", "lt", "lte", "gt", "gte"};

std::string verdict_text(const NlVerdict& v) {
  switch (v.code) {
    case 0:
      return "drop";
    case 1:
      return "accept";
    case -1:
      return "continue";
    case -3:
      return "jump -> " + v.chain;
    case -4:
      return "goto -> " + v.chain;
    case -5:
      return "return";
    default:
      return fmt::format("verdict {}", v.code);
  }
}

struct Body {
  std::string operator()(const NlMetaLoad& e) const {
    return fmt::format("meta load {} => reg {}", name_of(kMetaKeys, e.key), e.dreg);
  }
  std::string operator()(const NlMetaSet& e) const {
    return fmt::format("meta set {} with reg {}", name_of(kMetaKeys, e.key), e.sreg);
  }
  std::string operator()(const NlCtLoad& e) const {
    return fmt::format("ct load {} => reg {}", name_of(kCtKeys, e.key), e.dreg);
  }
  std::string operator()(const NlCtSet& e) const {
    return fmt::format("ct set {} with reg {}", name_of(kCtKeys, e.key), e.sreg);
  }
  std::string operator()(const NlPayloadLoad& e) const {
    return fmt::format("payload load {}b @ {} header + {} => reg {}", e.len,
                       name_of(kBases, e.base), e.offset, e.dreg);
  }
  std::string operator()(const NlCmp& e) const {
    return fmt::format("cmp {} reg {}{}", name_of(kCmpOps, e.op), e.sreg, data_text(e.data));
  }
  std::string operator()(const NlBitwise& e) const {
    return fmt::format("bitwise reg {} = ( reg {} &{} ) ^{}", e.dreg, e.sreg, data_text(e.mask),
                       data_text(e.xor_));
  }
  std::string operator()(const NlImmediate& e) const {
    return fmt::format("immediate reg {}{}", e.dreg, data_text(e.data));
  }
  std::string operator()(const NlVerdict& e) const { return "immediate reg 0 " + verdict_text(e); }
  std::string operator()(const NlCounter&) const { return "counter pkts 0 bytes 0"; }
  std::string operator()(const NlRedir& e) const {
    std::string out = "redir";
    if (e.reg_proto_min)
      fmt::format_to(std::back_inserter(out), " proto_min reg {}", e.reg_proto_min);
    if (e.reg_proto_max)
      fmt::format_to(std::back_inserter(out), " proto_max reg {}", e.reg_proto_max);
    if (e.flags) fmt::format_to(std::back_inserter(out), " flags 0x{:x}", e.flags);
    return out;
  }
  std::string operator()(const NlTproxy& e) const {
    std::string out = std::string("tproxy ") + nl_family_name(e.family);
    if (e.reg_addr) fmt::format_to(std::back_inserter(out), " addr reg {}", e.reg_addr);
    if (e.reg_port) fmt::format_to(std::back_inserter(out), " port reg {}", e.reg_port);
    return out;
  }
  std::string operator()(const NlNat& e) const {
    std::string out =
        fmt::format("nat {} {}", e.type == 0 ? "snat" : "dnat", nl_family_name(e.family));
    if (e.reg_addr_min) fmt::format_to(std::back_inserter(out), " addr_min reg {}", e.reg_addr_min);
    if (e.reg_addr_max) fmt::format_to(std::back_inserter(out), " addr_max reg {}", e.reg_addr_max);
    if (e.reg_proto_min)
      fmt::format_to(std::back_inserter(out), " proto_min reg {}", e.reg_proto_min);
    if (e.reg_proto_max)
      fmt::format_to(std::back_inserter(out), " proto_max reg {}", e.reg_proto_max);
    if (e.flags) fmt::format_to(std::back_inserter(out), " flags 0x{:x}", e.flags);
    return out;
  }
  std::string operator()(const NlLookup& e) const {
    const std::string& set = e.anonymous ? e.anonymous->name : e.set;
    std::string out = fmt::format("lookup reg {} set {}", e.sreg, set);
    if (e.flags) fmt::format_to(std::back_inserter(out), " 0x{:x}", e.flags);
    return out;
  }
};

}  // namespace

std::string netlink_text(const NlExpr& expr) { return "[ " + std::visit(Body{}, expr) + " ]"; }

std::string netlink_text(const NlSet& set, const std::string& table) {
  std::string out = fmt::format("{} {} {} size {}\n{} {} 0\n", set.name, table, set.flags, set.size,
                                set.name, table);
  for (const NlSetElem& e : set.elements) {
    out += "\telement ";
    for (uint32_t w : words(e.key)) fmt::format_to(std::back_inserter(out), "{:08x} ", w);
    fmt::format_to(std::back_inserter(out), " : {} [end]", e.flags);
  }
  return out + "\n";
}

std::string netlink_text(const NlRule& rule, const std::string& table, const std::string& chain) {
  std::string out;
  for (const NlExpr& e : rule.exprs)
    if (const auto* l = std::get_if<NlLookup>(&e); l && l->anonymous)
      out += netlink_text(*l->anonymous, table);
  out += fmt::format("inet {} {}\n", table, chain);
  for (const NlExpr& e : rule.exprs) out += "  " + netlink_text(e) + "\n";
  return out + "\n";
}

std::string netlink_text(const NlForm& form) {
  std::string out;
  for (const NlTable& t : form)
    for (const NlChain& c : t.chains)
      for (const NlRule& r : c.rules) out += netlink_text(r, t.name, c.name);
  return out;
}

}  // namespace snare
