// Emitter: how the builder's steps write rules, and the small constructors that make each step
// read like istio's rule text. Internal to src/builder/.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "model/rule.h"

namespace snare::build {

constexpr const char* kOutboundMark = "1338";  // istio's constants.OutboundMark
constexpr const char* kDnsPort = "15053";      // the agent's DNS proxy
constexpr const char* kPassthrough4 = "127.0.0.6/32";
constexpr const char* kPassthrough6 = "::6/128";
constexpr const char* kLoopback6 = "::1/128";

inline Match src(std::string cidr, bool inv = false) {
  return AddrMatch{true, inv, std::move(cidr)};
}
inline Match dst(std::string cidr, bool inv = false) {
  return AddrMatch{false, inv, std::move(cidr)};
}
inline Match in_if(std::string n) { return IfaceMatch{false, false, std::move(n)}; }
inline Match out_if(std::string n) { return IfaceMatch{true, false, std::move(n)}; }
inline Match out_if_inv(std::string n) { return IfaceMatch{true, true, std::move(n)}; }
inline Match proto(const char* p) { return ProtoMatch{p}; }
inline Match dport(const char* p, std::string port, bool inv = false) {
  return PortMatch{p, false, inv, std::move(port)};
}
inline Match sport(const char* p, std::string port) {
  return PortMatch{p, true, false, std::move(port)};
}
inline Match owner(bool gid, const OwnerId& id, bool inv = false) {
  return OwnerMatch{gid, inv, id.spelling, id.number};
}
inline Match mark(std::string m, bool inv = false) { return MarkMatch{inv, std::move(m)}; }
inline Match ctstate(std::vector<std::string> states) { return ConntrackMatch{std::move(states)}; }
inline Target jump(std::string chain) { return JumpTarget{std::move(chain)}; }
// One match, moved into place: the rules written once per listed CIDR, thousands of them, skip
// the copy an initializer list makes.
inline std::vector<Match> just(Match m) {
  std::vector<Match> v;
  v.reserve(1);
  v.push_back(std::move(m));
  return v;
}
inline Target redirect(std::string port, bool singular = false) {
  return RedirectTarget{std::move(port), singular};
}

// The rules of one rule (table, chain, matches, target) a family-specific step makes.
struct Spec {
  Table table;
  const char* chain;
  std::vector<Match> matches;
  Target target;
};

// Collects the plan. `both` is one rule for both families (no address in it), `v4`/`v6` one
// family's; a v6 rule is dropped when IPv6 is off, as istio's builders do.
class Emitter {
 public:
  Emitter(Dialect dialect, bool ipv6);

  bool nftables() const { return plan_.dialect == Dialect::nftables; }
  void set_rule_set(RuleSet r) { plan_.rule_set = r; }
  bool ipv6() const { return plan_.ipv6; }
  // The matches for this dialect: istio's nftables code writes some rules with another token
  // order, or without the `meta l4proto` its iptables code has as `-p`, or with one more.
  std::vector<Match> pick(std::vector<Match> for_iptables, std::vector<Match> for_nft) const {
    return nftables() ? std::move(for_nft) : std::move(for_iptables);
  }

  void both(Table t, const char* chain, std::vector<Match> m, Target tg, int insert_at = 0) {
    add(Scope::both, t, chain, std::move(m), std::move(tg), insert_at);
  }
  void v4(Table t, const char* chain, std::vector<Match> m, Target tg, int insert_at = 0) {
    add(Scope::v4, t, chain, std::move(m), std::move(tg), insert_at);
  }
  void v6(Table t, const char* chain, std::vector<Match> m, Target tg, int insert_at = 0) {
    if (plan_.ipv6) add(Scope::v6, t, chain, std::move(m), std::move(tg), insert_at);
  }
  // A rule in `scope`: both, or one family (for the jumps istio emits per family in iptables
  // mode but once in nftables mode).
  void in(Scope scope, Table t, const char* chain, std::vector<Match> m, Target tg) {
    if (scope == Scope::v6 && !plan_.ipv6) return;
    add(scope, t, chain, std::move(m), std::move(tg), 0);
  }
  // istio's AppendVersionedRule: the same rule with a family-specific address.
  template <typename F>
  void versioned(const std::string& a4, const std::string& a6, F make) {
    Spec s4 = make(a4);
    v4(s4.table, s4.chain, std::move(s4.matches), std::move(s4.target));
    if (!plan_.ipv6) return;
    Spec s6 = make(a6);
    v6(s6.table, s6.chain, std::move(s6.matches), std::move(s6.target));
  }
  // A set the rules look up (an IPv6 one used only with IPv6 on, as the v6 rules).
  void set(std::string name, Family f, std::string comment) {
    const bool used = f == Family::v4 || plan_.ipv6;
    plan_.sets.push_back({std::move(name), f, std::move(comment), used});
  }
  void reserve(size_t n) { plan_.rules.reserve(n); }
  Plan take() { return std::move(plan_); }

 private:
  void add(Scope scope, Table t, const char* chain, std::vector<Match> m, Target tg,
           int insert_at) {
    plan_.rules.push_back(Rule{t, scope, chain, insert_at, std::move(m), std::move(tg)});
  }
  Plan plan_;
};

// The steps, in istio's order (builder.cpp calls them). Each file holds one istio concern.
void exclude_interfaces(const Config& cfg, Emitter& e);          // interfaces.cpp
void kube_virt_returns(const Config& cfg, Emitter& e);           // interfaces.cpp
void drop_invalid(const Config& cfg, Emitter& e);                // inbound.cpp
void fixed_chains(const Config& cfg, Emitter& e);                // inbound.cpp
void inbound_capture(const Config& cfg, Emitter& e);             // inbound.cpp
void proxy_exemptions(const Config& cfg, bool dns, Emitter& e);  // outbound.cpp
void owner_groups(const Config& cfg, Emitter& e);                // outbound.cpp
void dns_capture(const Config& cfg, Emitter& e);                 // dns.cpp
void outbound_capture(const Config& cfg, Emitter& e);            // outbound.cpp
void tproxy_marks(const Config& cfg, Emitter& e);                // tproxy.cpp
void tproxy_divert(const Config& cfg, Emitter& e);               // tproxy.cpp
void ambient_inpod(const Config& cfg, Emitter& e);               // ambient.cpp
void ambient_host(const Config& cfg, Emitter& e);                // ambient.cpp

}  // namespace snare::build
