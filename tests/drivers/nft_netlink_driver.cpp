// nft_netlink_driver: writes and reads nf_tables over netlink with snare's kernel/nft_netlink in
// the current network namespace, for tests/root/nft_netlink.sh. Not installed.
//
//   nft_netlink_driver COMMAND [ARGS]
//     write-all                 add the table of every expression kind (inet snare-nl)
//     check-all                 read inet snare-nl back; exit 1 with both forms when unequal
//     bad-batch                 flush inet snare-nl, then add a rule jumping to a missing chain:
//                               must fail naming that rule; prints the error
//     big N                     add inet snare-big with N rules in one batch, read it back equal
//     dump FAMILY TABLE...      print the tables as read
//     delete-table FAMILY TABLE | flush-table FAMILY TABLE
//     flush-chain FAMILY TABLE CHAIN | delete-chain FAMILY TABLE CHAIN
//     delete-rule FAMILY TABLE CHAIN HANDLE | delete-object FAMILY TABLE KIND NAME
// Errors go to stderr with exit status 1; bad usage exits 2.
#include <fmt/format.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "kernel/nft_netlink.h"
#include "model/netlink_form.h"

namespace {

using namespace snare;

NlBytes u32le(uint32_t v) {
  return {uint8_t(v), uint8_t(v >> 8), uint8_t(v >> 16), uint8_t(v >> 24)};
}
NlBytes be16(uint16_t v) { return {uint8_t(v >> 8), uint8_t(v)}; }
NlBytes ifname(const std::string& n) {
  NlBytes b(16, 0);
  for (size_t i = 0; i < n.size() && i < 15; ++i) b[i] = uint8_t(n[i]);
  return b;
}
NlExpr meta(uint32_t key) { return NlMetaLoad{key, NFT_REG_1}; }
NlExpr eq(NlBytes d) { return NlCmp{NFT_CMP_EQ, NFT_REG_1, std::move(d)}; }
NlExpr verdict(int32_t code, std::string chain = {}) { return NlVerdict{code, std::move(chain)}; }
NlExpr imm(NlBytes d) { return NlImmediate{NFT_REG_1, std::move(d)}; }
NlExpr tcp() { return eq({IPPROTO_TCP}); }
// `ip daddr`/`ip saddr` in an inet table: nft checks the family first.
void ipv4(std::vector<NlExpr>& x, uint32_t offset) {
  x.push_back(meta(NFT_META_NFPROTO));
  x.push_back(eq({NFPROTO_IPV4}));
  x.push_back(NlPayloadLoad{NFT_PAYLOAD_NETWORK_HEADER, offset, 4, NFT_REG_1});
}
std::vector<NlExpr> cat(std::vector<NlExpr> a, const std::vector<NlExpr>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}
NlRule rule(std::string label, std::vector<NlExpr> x) {
  NlRule r;
  r.exprs = std::move(x);
  r.label = "add rule inet snare-nl " + std::move(label);
  return r;
}
NlChain base_chain(std::string name, std::string type, uint32_t hook, int32_t prio) {
  NlChain c;
  c.name = std::move(name);
  c.base = true;
  c.type = std::move(type);
  c.hook = hook;
  c.priority = prio;
  c.policy = NF_ACCEPT;
  return c;
}
NlChain chain(std::string name) {
  NlChain c;
  c.name = std::move(name);
  return c;
}

// nft's set userdata (key byte order and type), as it sends it for the text.
// nft's set userdata (TLVs: key byte order, and for the anonymous set its key's type details).
const NlBytes kAnonUserdata = {0x00, 0x04, 0x02, 0x00, 0x00, 0x00, 0x03, 0x14, 0x00, 0x04,
                               0x07, 0x00, 0x00, 0x00, 0x01, 0x0c, 0x00, 0x04, 0x08, 0x00,
                               0x00, 0x00, 0x01, 0x04, 0x02, 0x00, 0x00, 0x00};
const NlBytes kProbeUserdata = {0x00, 0x04, 0x02, 0x00, 0x00, 0x00};

// `tcp dport { 53, 15002 }`: nft's anonymous constant set.
NlLookup dport_set() {
  NlSet s;
  s.name = "__set0";
  s.flags = NFT_SET_ANONYMOUS | NFT_SET_CONSTANT;
  s.key_type = 13;  // inet_service
  s.key_len = 2;
  s.size = 2;
  s.userdata = kAnonUserdata;
  s.elements = {{be16(53), 0}, {be16(15002), 0}};
  NlLookup l;
  l.sreg = NFT_REG_1;
  l.anonymous = s;
  return l;
}

std::vector<NlRule> out_rules() {
  std::vector<NlExpr> daddr_lo, daddr_set;
  ipv4(daddr_lo, 16);
  ipv4(daddr_set, 16);
  NlLookup probe;
  probe.sreg = NFT_REG_1;
  probe.set = "probe4";
  return {
      rule("out meta l4proto tcp tcp dport { 53, 15002 } counter redirect to :15001",
           {meta(NFT_META_L4PROTO), tcp(),
            NlPayloadLoad{NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG_1}, dport_set(), NlCounter{},
            imm(be16(15001)), NlRedir{NFT_REG_1, 0, NF_NAT_RANGE_PROTO_SPECIFIED}}),
      rule("out meta skuid 1337 counter return",
           {meta(NFT_META_SKUID), eq(u32le(1337)), NlCounter{}, verdict(NFT_RETURN)}),
      rule("out oifname \"lo\" ip daddr != 127.0.0.1 jump to-proxy",
           cat(cat({meta(NFT_META_OIFNAME), eq(ifname("lo"))}, daddr_lo),
               {NlCmp{NFT_CMP_NEQ, NFT_REG_1, {127, 0, 0, 1}}, verdict(NFT_JUMP, "to-proxy")})),
      rule("out meta mark & 0xff == 0x11 return",
           {meta(NFT_META_MARK), NlBitwise{NFT_REG_1, NFT_REG_1, 4, u32le(0xff), u32le(0)},
            eq(u32le(0x11)), verdict(NFT_RETURN)}),
      rule("out ip daddr @probe4 accept", cat(daddr_set, {probe, verdict(NF_ACCEPT)})),
      rule("out meta nfproto ipv6 return",
           {meta(NFT_META_NFPROTO), eq({NFPROTO_IPV6}), verdict(NFT_RETURN)}),
  };
}

std::vector<NlRule> other_rules(const std::string& which) {
  if (which == "to-proxy") {
    std::vector<NlExpr> daddr;
    ipv4(daddr, 16);
    return {
        rule("to-proxy ip daddr 10.0.0.1 drop", cat(daddr, {eq({10, 0, 0, 1}), verdict(NF_DROP)})),
        rule("to-proxy meta l4proto tcp counter redirect to :15001",
             {meta(NFT_META_L4PROTO), tcp(), NlCounter{}, imm(be16(15001)),
              NlRedir{NFT_REG_1, 0, NF_NAT_RANGE_PROTO_SPECIFIED}})};
  }
  if (which == "pre")
    return {
        rule("pre meta l4proto tcp tproxy ip to :15006 meta mark set 0x539 accept",
             {meta(NFT_META_L4PROTO), tcp(), imm(be16(15006)), NlTproxy{NFPROTO_IPV4, 0, NFT_REG_1},
              imm(u32le(0x539)), NlMetaSet{NFT_META_MARK, NFT_REG_1}, verdict(NF_ACCEPT)}),
        rule("pre ct zone set 1 ct mark set 0x1 return",
             {imm({1, 0}), NlCtSet{NFT_CT_ZONE, NFT_REG_1}, imm(u32le(1)),
              NlCtSet{NFT_CT_MARK, NFT_REG_1}, verdict(NFT_RETURN)}),
        rule("pre meta l4proto tcp ct mark 0x539 meta mark set ct mark",
             {meta(NFT_META_L4PROTO), tcp(), NlCtLoad{NFT_CT_MARK, NFT_REG_1}, eq(u32le(0x539)),
              NlCtLoad{NFT_CT_MARK, NFT_REG_1}, NlMetaSet{NFT_META_MARK, NFT_REG_1}})};
  std::vector<NlExpr> saddr;
  ipv4(saddr, 12);
  return {rule("post ip saddr 127.0.0.6 snat ip to 127.0.0.1",
               cat(saddr, {eq({127, 0, 0, 6}), imm({127, 0, 0, 1}),
                           NlNat{NFT_NAT_SNAT, NFPROTO_IPV4, NFT_REG_1, 0, 0, 0, 0}}))};
}

NlTable all_kinds_table() {
  NlTable t;
  t.name = "snare-nl";
  t.family = NFPROTO_INET;
  NlSet probe;
  probe.name = "probe4";
  probe.key_type = 7;  // ipv4_addr
  probe.key_len = 4;
  probe.userdata = kProbeUserdata;
  t.sets.push_back(probe);
  t.chains = {base_chain("out", "nat", NF_INET_LOCAL_OUT, -100), chain("to-proxy"),
              base_chain("pre", "filter", NF_INET_PRE_ROUTING, -150),
              base_chain("post", "nat", NF_INET_POST_ROUTING, 100)};
  t.chains[0].rules = out_rules();
  for (size_t i = 1; i < t.chains.size(); ++i) t.chains[i].rules = other_rules(t.chains[i].name);
  return t;
}

std::string hex(const NlBytes& b) {
  std::string s;
  for (uint8_t c : b) s += fmt::format("{:02x}", c);
  return s.empty() ? "-" : s;
}

struct Show {
  std::string operator()(const NlMetaLoad& x) const {
    return fmt::format("meta load {} => {}", x.key, x.dreg);
  }
  std::string operator()(const NlMetaSet& x) const {
    return fmt::format("meta set {} <= {}", x.key, x.sreg);
  }
  std::string operator()(const NlCtLoad& x) const {
    return fmt::format("ct load {} => {}", x.key, x.dreg);
  }
  std::string operator()(const NlCtSet& x) const {
    return fmt::format("ct set {} <= {}", x.key, x.sreg);
  }
  std::string operator()(const NlPayloadLoad& x) const {
    return fmt::format("payload {}b @ {} + {} => {}", x.len, x.base, x.offset, x.dreg);
  }
  std::string operator()(const NlCmp& x) const {
    return fmt::format("cmp {} {} {}", x.op, x.sreg, hex(x.data));
  }
  std::string operator()(const NlBitwise& x) const {
    return fmt::format("bitwise {} = ({} & {}) ^ {} len {}", x.dreg, x.sreg, hex(x.mask),
                       hex(x.xor_), x.len);
  }
  std::string operator()(const NlImmediate& x) const {
    return fmt::format("immediate {} {}", x.dreg, hex(x.data));
  }
  std::string operator()(const NlVerdict& x) const {
    return fmt::format("verdict {} {}", x.code, x.chain);
  }
  std::string operator()(const NlCounter&) const { return "counter"; }
  std::string operator()(const NlRedir& x) const {
    return fmt::format("redir {} {} flags {}", x.reg_proto_min, x.reg_proto_max, x.flags);
  }
  std::string operator()(const NlTproxy& x) const {
    return fmt::format("tproxy family {} addr {} port {}", x.family, x.reg_addr, x.reg_port);
  }
  std::string operator()(const NlNat& x) const {
    return fmt::format("nat type {} family {} addr {}-{} proto {}-{} flags {}", x.type, x.family,
                       x.reg_addr_min, x.reg_addr_max, x.reg_proto_min, x.reg_proto_max, x.flags);
  }
  std::string operator()(const NlLookup& x) const {
    std::string s = fmt::format("lookup {} flags {} set {}", x.sreg, x.flags, x.set);
    if (x.anonymous) s += " anonymous " + set(*x.anonymous);
    return s;
  }
  static std::string set(const NlSet& s) {
    std::string out = fmt::format("{{{} flags {} key {}/{} size {} userdata {} elements", s.name,
                                  s.flags, s.key_type, s.key_len, s.size, hex(s.userdata));
    for (const auto& e : s.elements) out += fmt::format(" {}/{}", hex(e.key), e.flags);
    return out + "}";
  }
};

void print(const NlForm& form) {
  for (const NlTable& t : form) {
    std::printf("table %u %s flags %u\n", t.family, t.name.c_str(), t.flags);
    for (const NlSet& s : t.sets) std::printf("  set %s\n", Show::set(s).c_str());
    for (const std::string& o : t.objects) std::printf("  object %s\n", o.c_str());
    for (const NlChain& c : t.chains) {
      std::printf("  chain %s base %d type %s hook %u prio %d policy %d device %s\n",
                  c.name.c_str(), c.base, c.type.c_str(), c.hook, c.priority,
                  c.policy ? int(*c.policy) : -1, c.device.c_str());
      for (const NlRule& r : c.rules) {
        std::printf("    rule handle %llu%s%s\n", static_cast<unsigned long long>(r.handle),
                    r.unknown.empty() ? "" : " unknown: ", r.unknown.c_str());
        for (const NlExpr& e : r.exprs) std::printf("      %s\n", std::visit(Show{}, e).c_str());
      }
    }
  }
}

int fail(const std::string& what) {
  std::fprintf(stderr, "error: %s\n", what.c_str());
  return 1;
}

int write(const NlBatch& batch) {
  bool committed = false;
  Status s = nl_write_batch(batch, committed);
  if (!s.ok()) return fail(s.error);
  return committed ? 0 : fail("not committed");
}

int check(uint32_t family, const NlTable& want) {
  NlForm have;
  if (Status s = nl_read_tables(family, {want.name}, have); !s.ok()) return fail(s.error);
  if (have == NlForm{want}) return 0;
  std::printf("--- want\n");
  print({want});
  std::printf("--- have\n");
  print(have);
  return fail("the table read back differs from the one written");
}

// A rule jumping to a chain that does not exist, after a flush of snare-nl: the whole batch must
// fail, name that rule, and leave snare-nl as it was.
int bad_batch() {
  NlTable bad;
  bad.name = "snare-bad";
  bad.family = NFPROTO_INET;
  bad.chains = {chain("c")};
  NlRule r;
  r.exprs = {NlCounter{}, verdict(NFT_JUMP, "missing")};
  r.label = "add rule inet snare-bad c counter jump missing";
  bad.chains[0].rules = {r};
  bool committed = true;
  Status s = nl_write_batch({NlFlushTable{NFPROTO_INET, "snare-nl"}, NlAddTable{bad}}, committed);
  if (s.ok() || committed) return fail("the bad batch went through");
  std::printf("%s\n", s.error.c_str());
  return s.error.find(r.label) == std::string::npos ? fail("the error does not name the rule") : 0;
}

int big(int n) {
  NlTable t;
  t.name = "snare-big";
  t.family = NFPROTO_INET;
  t.chains = {base_chain("c", "filter", NF_INET_LOCAL_OUT, 0)};
  for (int i = 0; i < n; ++i) {
    NlRule r;
    r.exprs = {meta(NFT_META_L4PROTO),
               tcp(),
               NlPayloadLoad{NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG_1},
               eq(be16(uint16_t(1000 + i))),
               NlCounter{},
               verdict(NFT_RETURN)};
    r.label = fmt::format("add rule inet snare-big c tcp dport {} counter return", 1000 + i);
    t.chains[0].rules.push_back(std::move(r));
  }
  const auto t0 = std::chrono::steady_clock::now();
  if (int rc = write({NlAddTable{t}})) return rc;
  const auto t1 = std::chrono::steady_clock::now();
  const int rc = check(NFPROTO_INET, t);
  const auto t2 = std::chrono::steady_clock::now();
  using ms = std::chrono::milliseconds;
  std::printf("rules=%d write_ms=%lld read_ms=%lld\n", n,
              static_cast<long long>(std::chrono::duration_cast<ms>(t1 - t0).count()),
              static_cast<long long>(std::chrono::duration_cast<ms>(t2 - t1).count()));
  return rc;
}

bool family_of(const std::string& s, uint32_t& f) {
  if (s == "inet")
    f = NFPROTO_INET;
  else if (s == "ip")
    f = NFPROTO_IPV4;
  else if (s == "ip6")
    f = NFPROTO_IPV6;
  else
    return false;
  return true;
}

int ops(const std::vector<std::string>& a, uint32_t f) {
  const std::string& cmd = a[0];
  const size_t n = a.size();
  if (cmd == "delete-table" && n == 3) return write({NlDeleteTable{f, a[2]}});
  if (cmd == "flush-table" && n == 3) return write({NlFlushTable{f, a[2]}});
  if (cmd == "flush-chain" && n == 4) return write({NlFlushChain{f, a[2], a[3]}});
  if (cmd == "delete-chain" && n == 4) return write({NlDeleteChain{f, a[2], a[3]}});
  if (cmd == "delete-rule" && n == 5)
    return write({NlDeleteRule{f, a[2], a[3], std::stoull(a[4])}});
  if (cmd == "delete-object" && n == 5) return write({NlDeleteObject{f, a[2], a[3], a[4]}});
  if (cmd == "dump" && n >= 3) {
    NlForm form;
    if (Status s = nl_read_tables(f, {a.begin() + 2, a.end()}, form); !s.ok()) return fail(s.error);
    print(form);
    return 0;
  }
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> a(argv + 1, argv + argc);
  if (a.empty()) return 2;
  if (a[0] == "write-all" && a.size() == 1) return write({NlAddTable{all_kinds_table()}});
  if (a[0] == "check-all" && a.size() == 1) return check(NFPROTO_INET, all_kinds_table());
  if (a[0] == "bad-batch" && a.size() == 1) return bad_batch();
  if (a[0] == "big" && a.size() == 2) return big(std::stoi(a[1]));
  uint32_t f = 0;
  if (a.size() < 3 || !family_of(a[1], f)) {
    std::fprintf(stderr, "usage: nft_netlink_driver COMMAND [ARGS] (see the source)\n");
    return 2;
  }
  return ops(a, f);
}
