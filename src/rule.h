// The rule model: plain data for what snare writes into the kernel.
//
// A RuleSet is one address family's ordered list of rule operations, in the order istio's builder
// emits them (`-A chain` appends and `-I chain N` inserts). Each rule keeps its matches in the
// order istio writes them, because istio's dry-run text (the restore form) prints them that way;
// the kernel form (iptables-save) is derived from the same data by render_save.
//
// Values are kept as istio spells them (ports, marks, user names) so that a dry-run reproduces
// istio's text byte for byte; every value was validated by Config before a Rule is built.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace snare {

enum class Family { v4, v6 };
enum class Table { filter, nat, mangle, raw };

const char* family_name(Family f);  // "ipv4" / "ipv6"
const char* table_name(Table t);    // "nat", ...

// --- matches: one struct per iptables option group, in the spirit of iptables' extensions/ ---

// `[!] -s cidr` / `[!] -d cidr`.
struct AddrMatch {
  bool source = false;  // -s when true, -d when false
  bool invert = false;
  std::string cidr;  // as istio prints it ("10.0.0.0/8", "::1/128")
};

// `-i nic` / `-o nic`.
struct IfaceMatch {
  bool out = false;  // -o when true, -i when false
  bool invert = false;
  std::string name;
};

// `-p tcp|udp`.
struct ProtoMatch {
  std::string name;  // "tcp" or "udp"
};

// `[!] --dport P` / `[!] --sport P`: options of the implicit tcp/udp match that `-p` loads.
struct PortMatch {
  bool source = false;  // --sport when true
  bool invert = false;
  std::string port;  // "15008" or a range "1000:2000"
};

// `-m multiport [!] --dports a,b`.
struct MultiportMatch {
  bool invert = false;
  std::vector<std::string> ports;
};

// `-m owner [!] --uid-owner X` / `[!] --gid-owner X`.
struct OwnerMatch {
  bool gid = false;
  bool invert = false;
  std::string id;  // a number, or a user/group name (resolved to a number before apply)
};

// `-m mark [!] --mark V`.
struct MarkMatch {
  bool invert = false;
  std::string mark;  // decimal or 0x hex, as given
};

// `-m connmark --mark V`.
struct ConnmarkMatch {
  std::string mark;
};

// `-m conntrack --ctstate S1,S2`.
struct ConntrackMatch {
  std::vector<std::string> states;  // "INVALID", "RELATED", "ESTABLISHED"
};

using Match = std::variant<AddrMatch, IfaceMatch, ProtoMatch, PortMatch, MultiportMatch, OwnerMatch,
                           MarkMatch, ConnmarkMatch, ConntrackMatch>;

// --- targets ---

// `-j CHAIN`, or a verdict: ACCEPT, DROP, RETURN.
struct JumpTarget {
  std::string chain;
};

// `-j REDIRECT --to-ports P` (istio spells the UDP DNS one `--to-port`; both mean the same).
struct RedirectTarget {
  std::string port;
  bool singular = false;  // print `--to-port` in the restore form
};

// `-j TPROXY --tproxy-mark M/0xffffffff --on-port P`.
struct TproxyTarget {
  std::string mark;
  std::string port;
};

// `-j MARK --set-mark V`.
struct MarkTarget {
  std::string mark;
};

// `-j CONNMARK --save-mark` / `--restore-mark`.
struct ConnmarkTarget {
  bool restore = false;
};

// `-j CT --zone N`.
struct CtZoneTarget {
  int zone = 0;
};

using Target = std::variant<JumpTarget, RedirectTarget, TproxyTarget, MarkTarget, ConnmarkTarget,
                            CtZoneTarget>;

struct Rule {
  Table table = Table::nat;
  std::string chain;
  int insert_at = 0;  // 0: `-A chain`; N > 0: `-I chain N`
  std::vector<Match> matches;
  Target target;
};

// One family's rule operations, in emission order.
struct RuleSet {
  Family family = Family::v4;
  std::vector<Rule> rules;
};

// What the flags ask for: the v4 set, and the v6 set when IPv6 is on.
struct Plan {
  RuleSet v4;
  bool ipv6 = false;
  RuleSet v6;
};

// --- the materialised form: what the kernel holds after the operations ran ---

struct Chain {
  std::string name;
  bool builtin = false;
  std::vector<Rule> rules;  // insert_at is 0 for every rule here
};

struct TableImage {
  Table table = Table::nat;
  std::vector<Chain> chains;  // builtins in the kernel's order, then user chains by name
};

bool is_builtin_chain(const std::string& name);
bool is_verdict(const std::string& target);  // ACCEPT DROP RETURN

// Applies the operations in order and returns the tables they leave, for the tables the set
// touches, in the order mangle, raw, nat (iptables-save's order for these files).
std::vector<TableImage> materialize(const RuleSet& set);

// Builtin chains of a table, in the kernel's order.
std::vector<std::string> builtin_chains(Table t);

}  // namespace snare
