// The rule model: plain data for what snare writes into the kernel (docs/DESIGN.md, "Model").
//
// A Plan is the ordered list of rule operations istio's builder emits (`-A chain` appends,
// `-I chain N` inserts), each tagged with the address family it belongs to. The iptables forms
// read it one family at a time (a `both` rule is in the IPv4 and the IPv6 rule set); native
// nftables puts every rule of a table into one `inet` table, where a `both` rule is one rule for
// both families. Each rule keeps its matches in the order istio writes them in the plan's
// dialect, because the dry-run reproduces istio's text byte for byte; the kernel's own forms
// are derived from the same data by the extension forms in src/ext/.
//
// Values keep istio's spelling (ports, marks, user names); every value was validated when the
// Config was made. Spelling-only fields (marked so) take no part in equality, which compares
// meaning.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace snare {

enum class Family : uint8_t { v4, v6 };
enum class Table : uint8_t { nat, mangle, raw };
enum class Dialect : uint8_t { iptables, nftables };
// Which family a rule is for: both (no address in it), or one.
enum class Scope : uint8_t { both, v4, v6 };

const char* family_name(Family f);  // "ipv4" / "ipv6"
const char* table_name(Table t);    // "nat", "mangle", "raw"
constexpr Table kTables[] = {Table::nat, Table::mangle, Table::raw};

// --- matches: one struct per option group, forms in src/ext/ -----------------------------------

// `[!] -s cidr` / `[!] -d cidr`.
struct AddrMatch {
  bool source = false;  // -s when true, -d when false
  bool invert = false;
  std::string cidr;  // as istio prints it ("10.0.0.0/8", "::1/128")
  bool operator==(const AddrMatch&) const = default;
};

// `-i nic` / `-o nic`.
struct IfaceMatch {
  bool out = false;  // -o when true, -i when false
  bool invert = false;
  std::string name;
  bool operator==(const IfaceMatch&) const = default;
};

// `-p tcp|udp` (nftables: `meta l4proto tcp`).
struct ProtoMatch {
  std::string name;  // "tcp", "udp"; read back, whatever the kernel holds
  bool operator==(const ProtoMatch&) const = default;
};

// `[!] --dport P` / `[!] --sport P` of the tcp/udp match (nftables: `tcp dport != P`).
struct PortMatch {
  std::string proto;    // "tcp" or "udp": the -p it belongs to
  bool source = false;  // --sport when true
  bool invert = false;
  std::string port;  // "15008" or a range "1000:2000"
  bool operator==(const PortMatch&) const = default;
};

// `-m multiport [!] --dports a,b` (nftables: `tcp dport != { a, b }`).
struct MultiportMatch {
  std::string proto;
  bool invert = false;
  std::vector<std::string> ports;
  bool operator==(const MultiportMatch&) const = default;
};

// `-m owner [!] --uid-owner X` / `[!] --gid-owner X` (nftables: `skuid X`, `skgid X`).
// `id` is the spelling the flags gave (a number or a user/group name: what restore and nft text
// print); `number` is what config resolved it to (what the kernel gets). Only a restore-form
// dry-run leaves a name that does not exist here unresolved.
struct OwnerMatch {
  bool gid = false;
  bool invert = false;
  std::string id;
  std::optional<uint32_t> number;
  bool nft_meta = false;  // spelling only: istio writes `meta skuid` in its raw DNS rules
  // The kernel tells rules apart by number; an unresolved name only by its spelling.
  bool operator==(const OwnerMatch& o) const {
    return gid == o.gid && invert == o.invert && number == o.number && (number || id == o.id);
  }
};

// How istio's ambient nftables code spells a masked mark test (spelling only): `mark and 0xfff !=
// 0x539` (nat), `meta mark and ...` (raw), `meta mark & ...` (mangle), and once, in the IPv4
// inbound redirect, with two spaces before the operator.
enum class NftMaskSpelling : uint8_t { mark_and, meta_mark_and, meta_mark_amp, mark_and_wide };

// `-m mark [!] --mark V[/M]` (nftables: `mark V`, or with a mask `mark and M == V`).
struct MarkMatch {
  bool invert = false;
  std::string mark;  // decimal or 0x hex, as given; "0x539/0xfff" with a mask
  NftMaskSpelling nft = NftMaskSpelling::mark_and;  // spelling only, with a mask
  bool operator==(const MarkMatch& o) const { return invert == o.invert && mark == o.mark; }
};

// `-m connmark --mark V[/M]` (nftables: `ct mark V`, with a mask `ct mark and M == V`).
struct ConnmarkMatch {
  std::string mark;
  bool operator==(const ConnmarkMatch&) const = default;
};

// `-m tcp` / `-m udp` with no option of its own (istio's ambient rules write `-p tcp -m tcp` and
// `-m udp --dport 53`, where the port option follows in a PortMatch).
struct L4Match {
  std::string proto;  // "tcp" or "udp"
  bool operator==(const L4Match&) const = default;
};

// `-m owner --socket-exists`: the packet belongs to a local socket (xt_owner, like OwnerMatch).
struct SocketOwnerMatch {
  bool operator==(const SocketOwnerMatch&) const = default;
};

// `-m set --match-set NAME src|dst` (nftables: `ip daddr @NAME`).
struct SetMatch {
  std::string name;     // "" only when read back with an index no set holds
  bool source = false;  // src when true, dst when false
  // The set's index in the namespace's ip_set table, which x_tables keeps instead of the name:
  // found for the plan's names before encoding, and named for a rule read back, by the kernel
  // layer (ext/forms.h's resolve_kernel_ids over kernel/ipset.h). Not meaning: the name is.
  std::optional<uint16_t> index{};
  bool operator==(const SetMatch& o) const { return name == o.name && source == o.source; }
};

// `-m conntrack --ctstate S1,S2` (nftables: `ct state s1,s2`).
struct ConntrackMatch {
  std::vector<std::string> states;  // "INVALID", "RELATED", "ESTABLISHED"
  bool operator==(const ConntrackMatch&) const = default;
};

using Match =
    std::variant<AddrMatch, IfaceMatch, ProtoMatch, PortMatch, MultiportMatch, OwnerMatch,
                 MarkMatch, ConnmarkMatch, ConntrackMatch, L4Match, SocketOwnerMatch, SetMatch>;

// --- targets -----------------------------------------------------------------------------------

// `-j CHAIN`, or a verdict: ACCEPT, DROP, RETURN.
struct JumpTarget {
  std::string chain;
  // nftables only: istio's sidecar rules count every jump (`counter jump x`), its ambient rules
  // do not (`jump x`); the kernel holds a counter statement or not, so this is meaning there.
  bool nft_counter = true;
  bool operator==(const JumpTarget& o) const { return chain == o.chain; }
};

// `-j REDIRECT --to-ports P` (nftables: `redirect to :P`).
struct RedirectTarget {
  std::string port;
  bool singular = false;  // spelling only: istio's UDP DNS rule says `--to-port`
  bool operator==(const RedirectTarget& o) const { return port == o.port; }
};

// `-j TPROXY --tproxy-mark M/0xffffffff --on-port P`.
struct TproxyTarget {
  std::string mark;
  std::string port;
  bool operator==(const TproxyTarget&) const = default;
};

// `-j MARK --set-mark V`.
struct MarkTarget {
  std::string mark;
  bool operator==(const MarkTarget&) const = default;
};

// `-j CONNMARK --save-mark` / `--restore-mark`, or `--set-xmark V/M` when `set_mark` is given.
struct ConnmarkTarget {
  bool restore = false;
  std::string set_mark{};      // "0x111/0xfff": --set-xmark (then `restore` is false)
  bool masks_spelled = false;  // spelling only: istio's ambient rules write --nfmask/--ctmask
  bool operator==(const ConnmarkTarget& o) const {
    return restore == o.restore && set_mark == o.set_mark;
  }
};

// `-j CT --zone N`.
struct CtZoneTarget {
  int zone = 0;
  bool operator==(const CtZoneTarget&) const = default;
};

// `-j SNAT --to-source ADDR` (nftables: `snat to ADDR`).
struct SnatTarget {
  std::string addr;  // one address, as istio prints it
  bool operator==(const SnatTarget&) const = default;
};

using Target = std::variant<JumpTarget, RedirectTarget, TproxyTarget, MarkTarget, ConnmarkTarget,
                            CtZoneTarget, SnatTarget>;

struct Rule {
  Table table = Table::nat;
  Scope scope = Scope::both;
  std::string chain;  // iptables' name ("ISTIO_OUTPUT"); the nftables form lower-cases it
  int insert_at = 0;  // 0: `-A chain`; N > 0: `-I chain N` (1-based)
  std::vector<Match> matches;
  Target target;
};

// Which of istio's rule programs a plan is: the sidecar's (istio-iptables), ambient's in-pod
// redirection, or ambient's node-side health-probe SNAT (both istio-cni's node agent). It names
// the nftables tables (istio-proxy-* or istio-ambient-*) and their chains.
enum class RuleSet : uint8_t { sidecar, ambient, ambient_host };

// An IP set the rules look up and the rule set owns (ambient-host's probe sets): an ipset
// `hash:ip` with comments in iptables mode, a set of the table in nftables mode. Its members are
// someone else's (istio-cni's agent, `snare ambient-host probe`): an apply keeps them.
struct IpSet {
  std::string name;
  Family family = Family::v4;
  std::string comment;  // the nftables set's comment (istio's)
  // The rules use it (the IPv6 set with IPv6 on). One the flags leave unused is earlier state
  // of other flags: an apply removes it (as it removes such rules), clean too.
  bool used = true;
};

// What the flags ask for, in emission order.
struct Plan {
  RuleSet rule_set = RuleSet::sidecar;
  Dialect dialect = Dialect::iptables;
  bool ipv6 = false;  // the IPv6 rule set exists (iptables); IPv6 rules are emitted (nftables)
  std::vector<Rule> rules;
  std::vector<IpSet> sets;  // created before the rules that look them up
};

// The user chain a target enters, nullptr for none: what the target's extension says
// (ext/forms.h's entered_chain; the model does not know the extensions, its callers do).
using EnteredChain = const std::string* (*)(const Target& target);

// Whether `rule` is part of the rule set of `family`.
inline bool in_family(const Rule& rule, Family family) {
  return rule.scope == Scope::both || (rule.scope == Scope::v4) == (family == Family::v4);
}

// Whether the plan writes `rule` into `family`'s rule set: there is no IPv6 set with IPv6 off.
inline bool writes(const Plan& plan, const Rule& rule, Family family) {
  return (family == Family::v4 || plan.ipv6) && in_family(rule, family);
}

// The families a plan writes rules for: IPv4, and IPv6 when on.
std::vector<Family> plan_families(const Plan& plan);

bool is_builtin_chain(const std::string& name);
bool is_verdict(const std::string& target);               // ACCEPT DROP RETURN
bool is_istio_chain(const std::string& name);             // ISTIO_*
const std::vector<std::string>& builtin_chains(Table t);  // in the kernel's hook order

}  // namespace snare
