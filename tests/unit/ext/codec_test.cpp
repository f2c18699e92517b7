// Codec round trips: Rule -> entry bytes -> Rule renders the same iptables-save line, and the
// layouts iptables 1.8.9 uses (sizes, revisions) are the ones encoded. The kernel comparison is
// in tests/root/conformance_kernel.sh; these run without root.
#include <linux/netfilter/x_tables.h>
#include <linux/netfilter_ipv4/ip_tables.h>
#include <linux/netfilter_ipv6/ip6_tables.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstring>

#include "base/parse.h"
#include "ext/forms.h"
#include "ext/mark.h"
#include "render/restore.h"
#include "render/save.h"

using namespace snare;

namespace {

// What the kernel hands back for an entry we encoded: a standard target is nameless (its label
// comes from iptc_get_target), counters may be set.
std::string as_kernel_returns(Family f, std::string b, bool standard) {
  size_t toff = 0;
  if (f == Family::v4) {
    ipt_entry e;
    std::memcpy(&e, b.data(), sizeof e);
    toff = e.target_offset;
    e.counters.pcnt = 7;
    std::memcpy(b.data(), &e, sizeof e);
  } else {
    ip6t_entry e;
    std::memcpy(&e, b.data(), sizeof e);
    toff = e.target_offset;
    e.counters.bcnt = 9;
    std::memcpy(b.data(), &e, sizeof e);
  }
  if (standard) {
    auto* t = reinterpret_cast<xt_entry_target*>(b.data() + toff);
    std::memset(t->u.user.name, 0, sizeof t->u.user.name);
    t->u.user.name[5] = 'X';  // garbage after the NUL, as SO_GET_ENTRIES leaves it
  }
  return b;
}

// The namespace's ipsets a set match's index stands for, as the kernel layer would answer.
const KernelIds& test_ids() {
  static const KernelIds ids{[](const std::string& name) -> std::optional<uint16_t> {
                               if (name == "istio-inpod-probes-v4") return 3;
                               if (name == "istio-inpod-probes-v6") return 4;
                               return std::nullopt;
                             },
                             [](uint16_t index) -> std::optional<std::string> {
                               if (index == 3) return "istio-inpod-probes-v4";
                               if (index == 4) return "istio-inpod-probes-v6";
                               return std::nullopt;
                             }};
  return ids;
}

// The set match as resolve_kernel_ids leaves it: its name and the set's index.
Match probe_set(Family f, bool source = false) {
  SetMatch m{f == Family::v4 ? "istio-inpod-probes-v4" : "istio-inpod-probes-v6", source};
  m.index = test_ids().set_index(m.name);
  return m;
}

void round_trip(Family f, const Rule& r) {
  std::string b;
  REQUIRE(encode_rule(f, r, b).ok());
  // Why from the bytes: every target written as the standard one (a jump, a verdict, whatever
  // else the extensions write so) gets its label from iptc_get_target, whichever alternative.
  const auto x = entry_extensions(f, b);
  const bool standard =
      std::none_of(x.begin(), x.end(), [](const ExtensionRef& e) { return e.target; });
  const std::string name = read_target(f, b.data()).name;
  std::string k = as_kernel_returns(f, b, standard);
  const char* label = standard ? name.c_str() : "";
  DecodedRule d = decode_entry(f, k.data(), label);
  resolve_kernel_ids(d.rule, test_ids());  // the kernel layer names what it read back
  INFO(render_save_rule(r, f));
  CHECK(d.unsupported.empty());
  d.rule.table = r.table;
  d.rule.chain = r.chain;
  CHECK(render_save_rule(d.rule, f) == render_save_rule(r, f));
  // Normalised read-back bytes are the encoded bytes: that is what makes "already applied" exact.
  uint64_t packets = 0, octets = 0;
  CHECK(normalize_entry(f, k.data(), label, packets, octets) == b);
  CHECK(packets + octets > 0);
  // And encoding the decoded rule gives the same bytes again.
  std::string again;
  REQUIRE(encode_rule(f, d.rule, again).ok());
  CHECK(again == b);
}

// Rules of every match and target snare models, with the family's addresses.
std::vector<Rule> nat_rules(Family f) {
  const std::string lo = f == Family::v4 ? "127.0.0.1/32" : "::1/128";
  const std::string pt = f == Family::v4 ? "127.0.0.6/32" : "::6/128";
  const std::string net = f == Family::v4 ? "10.0.0.0/8" : "2001:db8::/32";
  return {
      {Table::nat,
       Scope::both,
       "ISTIO_OUTPUT",
       0,
       {IfaceMatch{true, false, "lo"}, AddrMatch{true, false, pt}},
       JumpTarget{"RETURN"}},
      {Table::nat,
       Scope::both,
       "ISTIO_OUTPUT",
       0,
       {IfaceMatch{true, false, "lo"}, AddrMatch{false, true, lo}, ProtoMatch{"tcp"},
        PortMatch{"tcp", false, true, "15008"}, OwnerMatch{false, false, "1337", 1337}},
       JumpTarget{"ISTIO_IN_REDIRECT"}},
      {Table::nat,
       Scope::both,
       "ISTIO_OUTPUT",
       0,
       {IfaceMatch{true, false, "lo"}, OwnerMatch{true, true, "1337", 1337}},
       JumpTarget{"RETURN"}},
      {Table::nat,
       Scope::both,
       "ISTIO_OUTPUT",
       0,
       {IfaceMatch{true, false, "lo"}, AddrMatch{false, true, lo}, ProtoMatch{"tcp"},
        MultiportMatch{"tcp", true, {"53", "15008"}}, OwnerMatch{false, false, "1337", 1337}},
       JumpTarget{"ISTIO_IN_REDIRECT"}},
      {Table::nat,
       Scope::both,
       "ISTIO_INBOUND",
       0,
       {ProtoMatch{"tcp"}, MultiportMatch{"tcp", false, {"80", "1000:2000"}}},
       JumpTarget{"RETURN"}},
      {Table::nat,
       Scope::both,
       "ISTIO_INBOUND",
       0,
       {ProtoMatch{"tcp"}, PortMatch{"tcp", false, false, "1000:2000"}},
       JumpTarget{"RETURN"}},
      {Table::nat,
       Scope::both,
       "ISTIO_OUTPUT",
       0,
       {AddrMatch{false, false, net}},
       JumpTarget{"ISTIO_REDIRECT"}},
      {Table::nat,
       Scope::both,
       "PREROUTING",
       0,
       {IfaceMatch{false, false, "eth+"}},
       JumpTarget{"RETURN"}},
      {Table::nat,
       Scope::both,
       "PREROUTING",
       0,
       {IfaceMatch{false, true, "eth1"}},
       JumpTarget{"ACCEPT"}},
      {Table::nat,
       Scope::both,
       "ISTIO_REDIRECT",
       0,
       {ProtoMatch{"tcp"}},
       RedirectTarget{"15001", false}},
      {Table::nat,
       Scope::both,
       "ISTIO_OUTPUT_DNS",
       0,
       {ProtoMatch{"udp"}, PortMatch{"udp", false, false, "53"}},
       RedirectTarget{"15053", false}},
  };
}

std::vector<Rule> raw_mangle_rules(Family f) {
  const std::string lo = f == Family::v4 ? "127.0.0.1/32" : "::1/128";
  return {
      {Table::raw,
       Scope::both,
       "ISTIO_OUTPUT_DNS",
       0,
       {ProtoMatch{"udp"}, PortMatch{"udp", true, false, "15053"},
        OwnerMatch{true, false, "1337", 1337}},
       CtZoneTarget{2}},
      {Table::mangle,
       Scope::both,
       "PREROUTING",
       0,
       {ProtoMatch{"tcp"}, MarkMatch{false, "0x539"}},
       ConnmarkTarget{false}},
      {Table::mangle,
       Scope::both,
       "OUTPUT",
       0,
       {ProtoMatch{"tcp"}, ConnmarkMatch{"0x539"}},
       ConnmarkTarget{true}},
      {Table::mangle,
       Scope::both,
       "OUTPUT",
       0,
       {ProtoMatch{"tcp"}, MarkMatch{true, "0x53a"}},
       MarkTarget{"0x53a"}},
      {Table::mangle,
       Scope::both,
       "ISTIO_INBOUND",
       0,
       {ProtoMatch{"tcp"}, ConntrackMatch{{"RELATED", "ESTABLISHED"}}},
       JumpTarget{"ISTIO_DIVERT"}},
      {Table::mangle,
       Scope::both,
       "PREROUTING",
       0,
       {ConntrackMatch{{"INVALID"}}},
       JumpTarget{"ISTIO_DROP"}},
      {Table::mangle, Scope::both, "ISTIO_DROP", 0, {}, JumpTarget{"DROP"}},
      {Table::mangle,
       Scope::both,
       "ISTIO_TPROXY",
       0,
       {AddrMatch{false, true, lo}, ProtoMatch{"tcp"}},
       TproxyTarget{"0x539", "15006"}},
  };
}

// istio-cni's ambient rules: masked marks, CONNMARK --set-xmark, bare -m tcp/-m udp, the owner
// match's --socket-exists, SNAT.
std::vector<Rule> ambient_rules(Family f) {
  const std::string probe = f == Family::v4 ? "169.254.7.127/32" : "fd16::1/128";
  const std::string snat = f == Family::v4 ? "169.254.7.127" : "fd16::1";
  return {
      {Table::nat,
       Scope::both,
       "ISTIO_PRERT",
       0,
       {AddrMatch{true, false, probe}, ProtoMatch{"tcp"}, L4Match{"tcp"}},
       JumpTarget{"ACCEPT"}},
      // istio writes the probe address bare: the full-length prefix.
      {Table::nat,
       Scope::both,
       "ISTIO_OUTPUT",
       0,
       {AddrMatch{false, false, snat}, ProtoMatch{"tcp"}, L4Match{"tcp"}},
       JumpTarget{"ACCEPT"}},
      {Table::nat,
       Scope::both,
       "ISTIO_OUTPUT",
       0,
       {IfaceMatch{true, true, "lo"}, ProtoMatch{"udp"}, MarkMatch{true, "0x539/0xfff"},
        L4Match{"udp"}, PortMatch{"udp", false, false, "53"}},
       RedirectTarget{"15053", true}},
      {Table::mangle,
       Scope::both,
       "ISTIO_PRERT",
       0,
       {MarkMatch{false, "0x539/0xfff"}},
       ConnmarkTarget{false, "0x111/0xfff"}},
      {Table::mangle,
       Scope::both,
       "ISTIO_OUTPUT",
       0,
       {ConnmarkMatch{"0x111/0xfff"}},
       ConnmarkTarget{true, {}, true}},
      {Table::nat,
       Scope::both,
       "ISTIO_POSTRT",
       0,
       {SocketOwnerMatch{}, ProtoMatch{"tcp"}},
       SnatTarget{snat}},
      // ambient-host's rule: the set match holds the set's kernel index.
      {Table::nat,
       Scope::both,
       "ISTIO_POSTRT",
       0,
       {SocketOwnerMatch{}, ProtoMatch{"tcp"}, probe_set(f)},
       SnatTarget{snat}},
      {Table::nat, Scope::both, "ISTIO_POSTRT", 0, {probe_set(f, true)}, JumpTarget{"RETURN"}},
  };
}

}  // namespace

TEST_CASE("ambient's matches and targets round-trip through the codec, both families") {
  for (Family f : {Family::v4, Family::v6})
    for (const Rule& r : ambient_rules(f)) round_trip(f, r);
}

TEST_CASE("SNAT is written in iptables 1.8.9's revisions: 0 for IPv4, 1 for IPv6") {
  // iptables-legacy -A ... -j SNAT --to-source reads back as these (root: `snare ambient verify`
  // decodes a hand-made rule of each family).
  for (Family f : {Family::v4, Family::v6}) {
    std::string b;
    Rule r{Table::nat,          Scope::both,
           "ISTIO_POSTRT",      0,
           {ProtoMatch{"tcp"}}, SnatTarget{f == Family::v4 ? "169.254.7.127" : "fd16::1"}};
    REQUIRE(encode_rule(f, r, b).ok());
    auto x = entry_extensions(f, b);
    REQUIRE(x.size() == 1);
    CHECK((x[0].name == "SNAT" && x[0].revision == (f == Family::v4 ? 0 : 1)));
  }
}

TEST_CASE("the set match needs its set's index, and reads back an index no set has as one") {
  std::string b;
  Rule r{Table::nat,
         Scope::both,
         "ISTIO_POSTRT",
         0,
         {SetMatch{"istio-inpod-probes-v4", false}},
         SnatTarget{"169.254.7.127"}};
  Status s = encode_rule(Family::v4, r, b);
  CHECK(!s.ok());
  CHECK_THAT(s.error, Catch::Contains("istio-inpod-probes-v4"));
  // A set that does not exist gets an index no set has: the rule then equals no kernel entry.
  Rule missing = r;
  missing.matches[0] = SetMatch{"no-such-set", false};
  resolve_kernel_ids(missing, test_ids());
  REQUIRE(encode_rule(Family::v4, missing, b).ok());
  DecodedRule d = decode_entry(Family::v4, b.data(), "");
  resolve_kernel_ids(d.rule, test_ids());
  d.rule.table = Table::nat;
  d.rule.chain = "ISTIO_POSTRT";
  CHECK_THAT(render_save_rule(d.rule, Family::v4), Catch::Contains("--match-set #65535 dst"));
}

TEST_CASE("every match and target round-trips through the codec, both families") {
  for (Family f : {Family::v4, Family::v6}) {
    for (const Rule& r : nat_rules(f)) round_trip(f, r);
    for (const Rule& r : raw_mangle_rules(f)) round_trip(f, r);
  }
}

TEST_CASE("the round-trip samples hold every alternative of Match and Target") {
  std::vector<bool> match(std::variant_size_v<Match>), target(std::variant_size_v<Target>);
  for (Family f : {Family::v4, Family::v6}) {
    std::vector<Rule> rules = nat_rules(f);
    for (Rule& r : raw_mangle_rules(f)) rules.push_back(std::move(r));
    for (Rule& r : ambient_rules(f)) rules.push_back(std::move(r));
    for (const Rule& r : rules) {
      for (const Match& m : r.matches) match[m.index()] = true;
      target[r.target.index()] = true;
    }
  }
  for (size_t i = 0; i < match.size(); ++i) {
    INFO("Match alternative " << i << " has no sample in nat_rules/raw_mangle_rules/ambient_rules");
    CHECK(match[i]);
  }
  for (size_t i = 0; i < target.size(); ++i) {
    INFO("Target alternative " << i
                               << " has no sample in nat_rules/raw_mangle_rules/ambient_rules");
    CHECK(target[i]);
  }
}

TEST_CASE("the revisions and sizes are iptables 1.8.9's") {
  std::string b;
  Rule r{Table::mangle,
         Scope::both,
         "OUTPUT",
         0,
         {ProtoMatch{"tcp"}, OwnerMatch{false, false, "1337", 1337}},
         ConnmarkTarget{true}};
  REQUIRE(encode_rule(Family::v4, r, b).ok());
  auto x = entry_extensions(Family::v4, b);
  REQUIRE(x.size() == 2);
  CHECK((x[0].name == "owner" && x[0].revision == 1 && !x[0].target));
  CHECK((x[1].name == "CONNMARK" && x[1].revision == 2 && x[1].target));
  ipt_entry e;
  std::memcpy(&e, b.data(), sizeof e);
  CHECK(e.target_offset == sizeof(ipt_entry) + 56);  // owner: 32 + 20 -> 56
  CHECK(e.next_offset == e.target_offset + 48);      // CONNMARK v2: 32 + 16 -> 48
  // IPv6 -p needs IP6T_F_PROTO or the kernel ignores the protocol.
  REQUIRE(encode_rule(Family::v6, r, b).ok());
  ip6t_entry e6;
  std::memcpy(&e6, b.data(), sizeof e6);
  CHECK(e6.ipv6.proto == 6);
  CHECK((e6.ipv6.flags & IP6T_F_PROTO) != 0);
}

TEST_CASE("addresses are stored masked, marks parse as decimal or hex") {
  std::string b;
  Rule r{Table::nat,          Scope::both, "OUTPUT", 0, {AddrMatch{false, false, "10.1.2.3/8"}},
         JumpTarget{"RETURN"}};
  REQUIRE(encode_rule(Family::v4, r, b).ok());
  DecodedRule d = decode_entry(Family::v4, b.data(), "RETURN");
  REQUIRE(d.rule.matches.size() == 1);
  CHECK(std::get<AddrMatch>(d.rule.matches[0]).cidr == "10.0.0.0/8");
  auto a = parse_mark("1337");
  CHECK((a.ok() && a.value.value == 1337 && a.value.mask == 0xffffffff));
  auto b2 = parse_mark("0x539/0xfff");
  CHECK((b2.ok() && b2.value.value == 0x539 && b2.value.mask == 0xfff));
  CHECK(!parse_mark("13x").ok());
  CHECK(format_mark(1338, 0xffffffff) == "0x53a");
}

TEST_CASE("a named owner keeps its spelling in restore text, the kernel gets its number") {
  const Rule r{
      Table::nat,          Scope::both, "OUTPUT", 0, {OwnerMatch{true, false, "java", 2020}},
      JumpTarget{"RETURN"}};
  std::string b;
  REQUIRE(encode_rule(Family::v4, r, b).ok());
  const std::string k = as_kernel_returns(Family::v4, b, true);
  DecodedRule d = decode_entry(Family::v4, k.data(), "RETURN");
  REQUIRE(d.rule.matches.size() == 1);
  CHECK(std::get<OwnerMatch>(d.rule.matches[0]).id == "2020");
  CHECK(d.rule.matches[0] == r.matches[0]);  // the same number, spelled otherwise
  CHECK_THAT(render_restore_rule(r), Catch::Contains("-m owner --gid-owner java"));
  CHECK_THAT(render_save_rule(r, Family::v4), Catch::Contains("-m owner --gid-owner 2020"));
}

TEST_CASE("bad values are refused with the value named") {
  std::string b;
  // A name config left unresolved (only a restore-form dry-run does) never reaches the kernel.
  Rule r{Table::nat,
         Scope::both,
         "OUTPUT",
         0,
         {OwnerMatch{false, false, "envoy", std::nullopt}},
         JumpTarget{"RETURN"}};
  Status s = encode_rule(Family::v4, r, b);
  CHECK(!s.ok());
  CHECK_THAT(s.error, Catch::Contains("envoy"));
  Rule p{Table::nat,          Scope::both, "OUTPUT", 0, {PortMatch{"tcp", false, false, "53"}},
         JumpTarget{"RETURN"}};
  CHECK(!encode_rule(Family::v4, p, b).ok());  // --dport without -p
}

TEST_CASE("an entry with a match snare does not model decodes recognisably and never matches") {
  // A `-m comment` match appended by hand to an encoded entry.
  std::string b;
  Rule r{Table::nat, Scope::both, "OUTPUT", 0, {ProtoMatch{"udp"}}, JumpTarget{"RETURN"}};
  REQUIRE(encode_rule(Family::v4, r, b).ok());
  ipt_entry e;
  std::memcpy(&e, b.data(), sizeof e);
  std::string target(b.begin() + e.target_offset, b.end());
  const size_t msize = XT_ALIGN(sizeof(xt_entry_match) + 256);
  std::string out(b.begin(), b.begin() + e.target_offset);
  out.resize(out.size() + msize, 0);
  auto* m = reinterpret_cast<xt_entry_match*>(out.data() + e.target_offset);
  m->u.user.match_size = static_cast<uint16_t>(msize);
  std::strcpy(m->u.user.name, "comment");
  out.insert(out.end(), target.begin(), target.end());
  e.target_offset = static_cast<uint16_t>(e.target_offset + msize);
  e.next_offset = static_cast<uint16_t>(e.next_offset + msize);
  std::memcpy(out.data(), &e, sizeof e);
  DecodedRule d =
      decode_entry(Family::v4, as_kernel_returns(Family::v4, out, true).data(), "RETURN");
  REQUIRE(d.unsupported.size() == 1);
  CHECK_THAT(d.unsupported[0], Catch::Contains("comment"));
  uint64_t packets = 0, octets = 0;
  CHECK(normalize_entry(Family::v4, out.data(), "RETURN", packets, octets) != b);
}
