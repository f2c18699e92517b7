// The kernel's answer from nftables trace events, and its comparison with the simulation (see
// live.h).
#include "trace/live.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "trace/report.h"

namespace snare {
namespace {

// The kernel's verdict codes (linux/netfilter.h, linux/netfilter/nf_tables.h).
constexpr int32_t kDrop = 0, kAccept = 1, kJump = -3, kGoto = -4, kReturn = -5;

std::string verdict_text(int32_t v) {
  switch (v) {
    case kJump:
      return "jump";
    case kGoto:
      return "goto";
    case kReturn:
      return "return";
    case -1:
      return "continue";
    case -2:
      return "break";
  }
  // Why the mask: a drop may carry an errno in its upper bits (NF_DROP_ERR).
  switch (v & 0xff) {
    case kDrop:
      return "drop";
    case kAccept:
      return "accept";
    case 2:
      return "stolen";
    case 3:
      return "queue";
  }
  return fmt::format("verdict {}", v);
}

// A rule's capture, from its statements in libnftables' JSON.
void rule_action(const nlohmann::json& exprs, LiveRule& r) {
  if (!exprs.is_array()) return;
  for (const nlohmann::json& e : exprs) {
    if (!e.is_object()) continue;
    for (const char* kind : {"redirect", "tproxy", "dnat", "snat", "masquerade"}) {
      if (!e.contains(kind)) continue;
      r.action = std::string(kind) == "masquerade" ? "snat" : kind;
      const nlohmann::json& body = e[kind];
      if (body.is_object() && body.contains("port") && body["port"].is_number_unsigned())
        r.to_port = body["port"].get<uint16_t>();
      return;
    }
  }
}

std::string step_key(const std::string& table, const std::string& chain, bool policy, int pos) {
  return policy ? fmt::format("{} {} policy", table, chain)
                : fmt::format("{} {} rule {}", table, chain, pos);
}

// The simulation's path as the kernel would report it: the rules that matched, the policies.
std::vector<std::string> sim_keys(const TraceResult& sim) {
  std::vector<std::string> out;
  for (const TraceStep& s : sim.path) {
    if (s.kind == TraceStep::Kind::policy)
      out.push_back(step_key(s.table_name, s.chain, true, 0));
    else if (s.kind == TraceStep::Kind::rule && s.outcome == MatchResult::Outcome::matched)
      out.push_back(step_key(s.table_name, s.chain, false, s.position));
  }
  return out;
}

std::vector<std::string> live_keys(const LiveResult& live) {
  std::vector<std::string> out;
  for (const LiveStep& s : live.path)
    if (s.simulated) out.push_back(step_key(s.table, s.chain, s.policy, s.position));
  return out;
}

std::string port_text(const std::optional<uint16_t>& p) {
  return p ? std::to_string(*p) : std::string("none");
}

}  // namespace

Status parse_live_rules(const std::string& json, LiveRules& out) {
  const nlohmann::json j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("nftables") || !j["nftables"].is_array())
    return Status::Fail("the nftables listing is not libnftables' JSON");
  std::map<std::pair<std::string, std::string>, int> count;
  for (const nlohmann::json& item : j["nftables"]) {
    if (!item.is_object() || !item.contains("rule")) continue;
    const nlohmann::json& r = item["rule"];
    if (!r.is_object() || !r.contains("handle") || !r["handle"].is_number_unsigned() ||
        !r.contains("table") || !r["table"].is_string() || !r.contains("chain") ||
        !r["chain"].is_string())
      continue;
    LiveRule rule;
    rule.table = r["table"].get<std::string>();
    rule.chain = r["chain"].get<std::string>();
    rule.position = ++count[{rule.table, rule.chain}];
    if (r.contains("expr")) rule_action(r["expr"], rule);
    out[{rule.table, r["handle"].get<uint64_t>()}] = std::move(rule);
  }
  return Status::Ok();
}

std::vector<NftTraceEvent> select_events(const std::vector<NftTraceEvent>& all, bool out_to_lo) {
  std::vector<NftTraceEvent> out;
  if (all.empty()) return out;
  const uint32_t first = all.front().id;
  std::optional<uint32_t> looped;
  // Why iif 1: lo is the first device of every network namespace.
  if (out_to_lo)
    for (const NftTraceEvent& e : all)
      if (e.id != first && e.iif == 1 && e.oif == 0) {
        looped = e.id;
        break;
      }
  for (const NftTraceEvent& e : all)
    if (e.id == first || (looped && e.id == *looped)) out.push_back(e);
  return out;
}

LiveResult correlate(const std::vector<NftTraceEvent>& events, const LiveRules& rules,
                     const std::vector<std::string>& simulated, const std::string& own_table) {
  LiveResult r;
  bool dropped = false, accepted = false;
  std::string capture;
  for (const NftTraceEvent& e : events) {
    if (r.oif.empty() && e.oif) r.oif = e.oifname.empty() ? fmt::format("#{}", e.oif) : e.oifname;
    if (e.table == own_table) continue;
    // A packet event opens a chain; a return event ends a user chain, and a rule event without
    // a rule handle is the walk going on in the calling chain after one: none is a step.
    if (e.type == NftTraceEvent::Type::packet || e.type == NftTraceEvent::Type::ret) continue;
    if (e.type == NftTraceEvent::Type::rule && !e.handle) continue;
    LiveStep s;
    s.table = e.table, s.chain = e.chain;
    s.simulated = std::find(simulated.begin(), simulated.end(), e.table) != simulated.end();
    if (e.type == NftTraceEvent::Type::policy) {
      s.policy = true;
      s.verdict = e.policy == kAccept ? "accept" : "drop";
      dropped = dropped || e.policy != kAccept;
    } else {
      s.handle = e.handle.value_or(0);
      s.verdict = verdict_text(e.verdict);
      s.target = e.jump_target;
      const auto it = e.handle ? rules.find({e.table, *e.handle}) : rules.end();
      if (it != rules.end()) {
        s.position = it->second.position;
        if (capture.empty() && !it->second.action.empty())
          capture = it->second.action, r.to_port = it->second.to_port;
      }
      dropped = dropped || s.verdict == "drop";
      accepted = accepted || s.verdict == "accept";
    }
    r.path.push_back(std::move(s));
  }
  r.action = dropped ? "drop" : !capture.empty() ? capture : accepted ? "accept" : "none";
  r.captured = !dropped && (capture == "redirect" || capture == "tproxy" || capture == "dnat");
  if (dropped || capture.empty()) r.to_port.reset();
  return r;
}

void compare_live(const TraceResult& sim, const Packet& asked, LiveResult& live) {
  auto differ = [&](const char* what, const std::string& s, const std::string& k) {
    if (s != k)
      live.disagreements.push_back(fmt::format("{}: simulation {}, kernel {}", what, s, k));
  };
  // Why first: the route decides the output chains' oifname tests, and the simulation takes the
  // device it is given (--oif) where the kernel asks its routing rules, which read the mark.
  if (!asked.oif.empty() && !live.oif.empty()) differ("oif", asked.oif, live.oif);
  differ("captured", sim.captured() ? "true" : "false", live.captured ? "true" : "false");
  differ("action", trace_action(sim), live.action);
  const std::optional<uint16_t> sim_port =
      sim.capture && !sim.dropped ? sim.capture->to_port : std::nullopt;
  differ("to_port", port_text(sim_port), port_text(live.to_port));
  const std::vector<std::string> a = sim_keys(sim), b = live_keys(live);
  for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    if (i < a.size() && i < b.size() && a[i] == b[i]) continue;
    live.disagreements.push_back(fmt::format("path step {}: simulation {}, kernel {}", i + 1,
                                             i < a.size() ? a[i] : "(ends)",
                                             i < b.size() ? b[i] : "(ends)"));
    break;  // the first difference; every later step shifts with it
  }
}

std::string live_table_commands(const std::string& table, Direction dir, const Packet& p) {
  const char* ip = p.src.v6 ? "ip6" : "ip";
  std::string tuple =
      fmt::format("meta l4proto {} {} saddr {} {} daddr {} {} sport {} {} dport {}", p.proto, ip,
                  p.src.text(), ip, p.dst.text(), p.proto, p.sport, p.proto, p.dport);
  // Why the SYN alone: the connection's first packet is the one traced; the reset the probe's
  // close sends (or a retransmission) would be a second packet.
  if (p.proto == "tcp") tuple += " tcp flags & (syn | ack) == syn";
  if (dir == Direction::out)
    tuple += fmt::format(" meta skuid {} meta skgid {}", p.uid, p.gid);
  else if (!p.iif.empty())
    tuple += fmt::format(" iifname \"{}\"", p.iif);
  // Why -350: after defragmentation (-400), before raw (-300) and conntrack (-200), so that every
  // chain istio's tables hook is traced.
  // Why `flags owner`: the table belongs to the netlink socket that wrote it, so the kernel
  // removes it when the process ends, even by SIGKILL; the same socket deletes it before then.
  return fmt::format(
      "add table inet {0} {{ flags owner; }}\n"
      "add chain inet {0} trace {{ type filter hook {1} priority -350; policy accept; }}\n"
      "add rule inet {0} trace {2} meta nftrace set 1\n",
      table, dir == Direction::out ? "output" : "prerouting", tuple);
}

}  // namespace snare
