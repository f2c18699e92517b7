// Restore-form renderer (see render_restore.h). Matches are printed in the order the builder put
// them, with istio's spellings (`--set-mark`, `--to-port`), because istio pastes strings.
#include "render_restore.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

namespace snare {
namespace {

std::string join(const std::vector<std::string>& v, const char* sep) {
  return fmt::format("{}", fmt::join(v, sep));
}

struct MatchText {
  std::string operator()(const AddrMatch& m) const {
    return fmt::format("{}{} {}", m.invert ? "! " : "", m.source ? "-s" : "-d", m.cidr);
  }
  std::string operator()(const IfaceMatch& m) const {
    return fmt::format("{}{} {}", m.invert ? "! " : "", m.out ? "-o" : "-i", m.name);
  }
  std::string operator()(const ProtoMatch& m) const { return "-p " + m.name; }
  std::string operator()(const PortMatch& m) const {
    return fmt::format("{}{} {}", m.invert ? "! " : "", m.source ? "--sport" : "--dport", m.port);
  }
  std::string operator()(const MultiportMatch& m) const {
    return fmt::format("-m multiport {}--dports {}", m.invert ? "! " : "", join(m.ports, ","));
  }
  std::string operator()(const OwnerMatch& m) const {
    return fmt::format("-m owner {}{} {}", m.invert ? "! " : "",
                       m.gid ? "--gid-owner" : "--uid-owner", m.id);
  }
  std::string operator()(const MarkMatch& m) const {
    return fmt::format("-m mark {}--mark {}", m.invert ? "! " : "", m.mark);
  }
  std::string operator()(const ConnmarkMatch& m) const { return "-m connmark --mark " + m.mark; }
  std::string operator()(const ConntrackMatch& m) const {
    return "-m conntrack --ctstate " + join(m.states, ",");
  }
};

struct TargetText {
  std::string operator()(const JumpTarget& t) const { return "-j " + t.chain; }
  std::string operator()(const RedirectTarget& t) const {
    return fmt::format("-j REDIRECT {} {}", t.singular ? "--to-port" : "--to-ports", t.port);
  }
  std::string operator()(const TproxyTarget& t) const {
    return fmt::format("-j TPROXY --tproxy-mark {}/0xffffffff --on-port {}", t.mark, t.port);
  }
  std::string operator()(const MarkTarget& t) const { return "-j MARK --set-mark " + t.mark; }
  std::string operator()(const ConnmarkTarget& t) const {
    return t.restore ? "-j CONNMARK --restore-mark" : "-j CONNMARK --save-mark";
  }
  std::string operator()(const CtZoneTarget& t) const {
    return fmt::format("-j CT --zone {}", t.zone);
  }
};

}  // namespace

std::string render_restore_rule(const Rule& rule) {
  std::string out = rule.insert_at > 0 ? fmt::format("-I {} {}", rule.chain, rule.insert_at)
                                       : fmt::format("-A {}", rule.chain);
  // Appended in two steps rather than `" " + text`: g++ 12 at -O3 reports a false -Wrestrict
  // inside that inlined concatenation.
  for (const Match& m : rule.matches) {
    out += ' ';
    out += std::visit(MatchText{}, m);
  }
  out += ' ';
  out += std::visit(TargetText{}, rule.target);
  return out;
}

std::string render_restore(const RuleSet& set) {
  // Why two passes: istio declares (-N) every chain a rule lives in, in first-use order, then
  // every chain a rule jumps to that is still undeclared (so raw gets `-N ISTIO_INBOUND` from
  // `-A PREROUTING -j ISTIO_INBOUND`). Tables print alphabetically.
  std::map<std::string, std::vector<std::string>> decls;
  std::set<std::string> declared;  // "table/chain"
  auto declare = [&](Table t, const std::string& chain) {
    if (is_builtin_chain(chain) || is_verdict(chain)) return;
    if (declared.insert(std::string(table_name(t)) + "/" + chain).second) {
      decls[table_name(t)].push_back(chain);
    }
  };
  for (const Rule& r : set.rules) declare(r.table, r.chain);
  for (const Rule& r : set.rules) {
    if (auto* j = std::get_if<JumpTarget>(&r.target)) declare(r.table, j->chain);
  }
  std::map<std::string, std::vector<std::string>> lines;
  for (const Rule& r : set.rules) lines[table_name(r.table)].push_back(render_restore_rule(r));

  std::string out;
  for (const auto& [table, rules] : lines) {
    out += fmt::format("* {}\n", table);
    for (const auto& c : decls[table]) out += fmt::format("-N {}\n", c);
    for (const auto& l : rules) out += l + "\n";
    out += "COMMIT\n";
  }
  return out;
}

}  // namespace snare
