// The walk of one packet through the tables (see trace.h).
#include "trace/trace.h"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_set>

#include "ext/forms.h"
#include "model/nft_layout.h"
#include "render/nft.h"
#include "render/save.h"

namespace snare {
namespace {

using Outcome = MatchResult::Outcome;

// The hooks a packet passes, in order: from a local process, and arriving for a local socket.
constexpr Hook kOut[] = {Hook::output, Hook::postrouting};
constexpr Hook kIn[] = {Hook::prerouting, Hook::input};

TraceStep make_step(TraceStep::Kind kind, const TraceEntry& at, std::string chain = {}) {
  TraceStep s;
  s.kind = kind, s.hook = at.hook, s.table = at.table, s.table_name = at.table_name;
  s.chain = std::move(chain);
  return s;
}

// The entries at `hook`, by priority (the kernel's order; equal priorities keep theirs).
std::vector<const TraceEntry*> entries_at(const TraceRules& rules, Hook hook) {
  std::vector<const TraceEntry*> out;
  for (const TraceEntry& e : rules.entries)
    if (e.hook == hook) out.push_back(&e);
  std::stable_sort(out.begin(), out.end(), [](const TraceEntry* a, const TraceEntry* b) {
    return a->priority < b->priority;
  });
  return out;
}

// A failed test in nft's spelling: the match's nft form, then the packet's value the evaluation
// gave after its own (iptables') spelling of the test ("-d 10.0.0.0/8: destination 1.2.3.4" ->
// "ip daddr 10.0.0.0/8: destination 1.2.3.4").
std::string nft_why(const Match& m, const Rule& rule, const std::string& why) {
  std::string out;
  nft_text(m, NftContext{rule.scope}, out);
  const size_t colon = why.find(": ");
  return colon == std::string::npos ? out : out + why.substr(colon);
}

// Whether `c` is a NAT mapping of the kind `hook`'s nat chains make: the destination at
// PREROUTING and OUTPUT, the source at INPUT and POSTROUTING.
bool mapped_at(const Capture& c, Hook hook) {
  const bool dst = hook == Hook::prerouting || hook == Hook::output;
  switch (c.kind) {
    case Capture::Kind::redirect:
    case Capture::Kind::dnat:
      return dst;
    case Capture::Kind::snat:
      return !dst;
    case Capture::Kind::tproxy:
      return false;
  }
  return false;
}

// How one table's builtin chain ended for the packet.
enum class End { accept, drop, stopped };

class Walker {
 public:
  Walker(const TraceRules& rules, TraceResult& r, size_t max_steps)
      : rules_(rules), r_(r), max_steps_(max_steps) {}

  // Runs the hooks' entries in order; false when the packet is dropped or the walk stopped.
  template <size_t N>
  bool run(const Hook (&hooks)[N], EvalContext& ctx, bool nat_bound) {
    for (Hook h : hooks)
      for (const TraceEntry* s : entries_at(rules_, h))
        if (!run_entry(*s, ctx, nat_bound)) return false;
    return true;
  }

 private:
  struct Frame {
    const Chain* chain;
    size_t next;
    bool left = false;  // a goto left it: its end is reached when the chain gone to ends
  };

  // One base chain; false when the packet is dropped there or the walk stopped.
  bool run_entry(const TraceEntry& s, EvalContext& ctx, bool nat_bound) {
    const TableModel* t = s.table_index < 0 ? find_table(s.table)
                          : static_cast<size_t>(s.table_index) < rules_.tables.size()
                              ? &rules_.tables[static_cast<size_t>(s.table_index)]
                              : nullptr;
    const Chain* chain = t ? t->find(s.chain) : nullptr;
    if (!chain) return true;
    if (s.table == Table::nat && (ctx.packet.established || nat_bound)) {
      note(s, fmt::format("{} {} not traversed: {}", s.table_name, s.chain,
                          ctx.packet.established
                              ? "a later packet follows the NAT of its connection's first "
                                "packet (trace without --established to see it)"
                              : "the connection's NAT was bound at OUTPUT and POSTROUTING"));
      return true;
    }
    // Why: the kernel runs a hook's nat chains (x_tables' and nf_tables') only until one binds
    // the connection's mapping of that kind; the later ones are not evaluated.
    if (s.table == Table::nat && ctx.capture && mapped_at(*ctx.capture, s.hook)) {
      note(s, fmt::format("{} {} not traversed: an earlier nat chain at this hook bound the "
                          "connection's NAT",
                          s.table_name, s.chain));
      return true;
    }
    ctx.hook = s.hook;
    ctx.table = s.table;
    ctx.family = t->family;
    // Why: raw runs before conntrack, so a packet there has no connection state or mark yet.
    ctx.conntrack = s.table != Table::raw;
    at_ = &s;
    TraceStep enter = make_step(TraceStep::Kind::enter, s, chain->name);
    enter.text = s.label;
    r_.path.push_back(std::move(enter));
    return walk(*t, *chain, ctx) == End::accept;
  }

  const TableModel* find_table(Table table) const {
    for (const TableModel& t : rules_.tables)
      if (t.table == table) return &t;
    return nullptr;
  }

  void note(const TraceEntry& s, std::string text) {
    TraceStep n = make_step(TraceStep::Kind::note, s);
    n.text = std::move(text);
    r_.path.push_back(std::move(n));
  }

  // "nat OUTPUT rule 1 -> ISTIO_OUTPUT rule 9": the chain of rules the walk is in now.
  std::string where(const std::vector<Frame>& stack) const {
    std::string out = at_->table_name;
    for (size_t i = 0; i < stack.size(); ++i)
      fmt::format_to(std::back_inserter(out), "{}{} rule {}", i ? " -> " : " ",
                     stack[i].chain->name, stack[i].next);
    return out;
  }

  // The matches in the kernel's order, as iptables-save prints them (the entry header's -s -d
  // -i -o -p, then the xt matches in order), so that the failed test named is the same for a
  // plan and for its save form; a definite failure wins over a match that cannot be evaluated.
  static MatchResult eval_matches(const Rule& rule, const EvalContext& ctx, const Match*& failed) {
    MatchResult unknown;
    for (SaveSlot slot : {SaveSlot::source, SaveSlot::destination, SaveSlot::in_iface,
                          SaveSlot::out_iface, SaveSlot::proto, SaveSlot::xt_match}) {
      for (const Match& m : rule.matches) {
        if (save_slot(m) != slot) continue;
        MatchResult res = eval_match(m, ctx);
        if (res.outcome == Outcome::failed) {
          failed = &m;
          return res;
        }
        if (res.outcome == Outcome::unknown && unknown.outcome == Outcome::matched)
          unknown = std::move(res);
      }
    }
    return unknown;
  }

  void uncertain(TraceStep& step, std::string why) {
    step.outcome = Outcome::unknown;
    step.why = why;
    r_.uncertain.push_back(
        fmt::format("{} {} rule {}: {}", step.table_name, step.chain, step.position, why));
  }

  End policy(const Chain& builtin) {
    const std::string pol = builtin.policy.empty() ? "ACCEPT" : builtin.policy;
    TraceStep s = make_step(TraceStep::Kind::policy, *at_, builtin.name);
    // nftables spells its policies in lower case (`policy accept`).
    s.text = "policy " + (rules_.nft ? (pol == "DROP" ? "drop" : "accept") : pol);
    r_.path.push_back(std::move(s));
    if (pol != "DROP") return End::accept;
    r_.dropped = true;
    r_.by = fmt::format("{} {} {}", at_->table_name, builtin.name, r_.path.back().text);
    return End::drop;
  }

  // A jump's chain: found, not already on the stack (a loop), or the reason the walk cannot go.
  const Chain* enter_chain(const TableModel& t, const std::string& name,
                           const std::vector<Frame>& stack, TraceStep& step) {
    const Chain* c = t.find(name);
    if (!c || c->builtin) {
      uncertain(step, fmt::format("jump to {}, which is not a user chain of the table", name));
      return nullptr;
    }
    for (const Frame& f : stack)
      if (f.chain == c) {
        r_.error = fmt::format("loop between chains: {} jumps back to {}", where(stack), name);
        return nullptr;
      }
    return c;
  }

  void pop(std::vector<Frame>& stack) {
    on_stack_.erase(stack.back().chain);
    stack.pop_back();
  }

  End walk(const TableModel& t, const Chain& builtin, EvalContext& ctx);

  const TraceRules& rules_;
  const TraceEntry* at_ = nullptr;  // the base chain being walked
  TraceResult& r_;
  size_t max_steps_;
  size_t steps_ = 0;
  std::unordered_set<const Chain*> on_stack_;  // the user chains the walk is in now
};

End Walker::walk(const TableModel& t, const Chain& builtin, EvalContext& ctx) {
  std::vector<Frame> stack{{&builtin, 0}};
  on_stack_.clear();  // a walk that ended inside user chains (ACCEPT, DROP) left them
  while (true) {
    Frame& f = stack.back();
    if (f.left || f.next >= f.chain->entries.size()) {
      if (stack.size() == 1) return policy(builtin);
      pop(stack);  // the end of a user chain returns to the rule after the jump
      continue;
    }
    const Entry& e = f.chain->entries[f.next++];
    if (++steps_ > max_steps_) {
      r_.error = fmt::format("more than {} rules evaluated: the walk stopped", max_steps_);
      return End::stopped;
    }
    TraceStep step = make_step(TraceStep::Kind::rule, *at_, f.chain->name);
    step.position = static_cast<int>(f.next);
    step.depth = static_cast<int>(stack.size() - 1);
    step.text = !e.text.empty() ? e.text
                : rules_.nft    ? render_nft_statements(*e.rule)
                                : render_save_rule(*e.rule, t.family);
    if (!e.unsupported.empty()) {
      uncertain(step, fmt::format("not modelled: {}", fmt::join(e.unsupported, ", ")));
      r_.path.push_back(std::move(step));
      continue;
    }
    const Match* failed = nullptr;
    MatchResult m = eval_matches(*e.rule, ctx, failed);
    if (m.outcome != Outcome::matched) {
      if (m.outcome == Outcome::unknown)
        uncertain(step, std::move(m.why));
      else
        step.outcome = Outcome::failed,
        step.why = rules_.nft && failed ? nft_why(*failed, *e.rule, m.why) : std::move(m.why);
      r_.path.push_back(std::move(step));
      continue;
    }
    TargetResult tr = eval_target(e.rule->target, ctx);
    // Why: a target names its chain as iptables does; nftables spells it istio-output.
    if (tr.kind == TargetResult::Kind::jump && rules_.nft && !rules_.native_names)
      tr.chain = nft_chain_name(tr.chain);
    step.why = tr.kind == TargetResult::Kind::jump ? "-> " + tr.chain : tr.note;
    if (tr.kind == TargetResult::Kind::unknown) uncertain(step, tr.note);
    r_.path.push_back(std::move(step));
    switch (tr.kind) {
      case TargetResult::Kind::next:
      case TargetResult::Kind::unknown:
        break;
      case TargetResult::Kind::jump:
        if (const Chain* c = enter_chain(t, tr.chain, stack, r_.path.back())) {
          // Why keep the chain a goto leaves on the stack: where() still names the rule,
          // and the loop check still sees it (the kernel refuses a goto loop as a jump loop).
          stack.back().left = tr.go_to;
          stack.push_back({c, 0});
          on_stack_.insert(c);
        } else if (!r_.error.empty())
          return End::stopped;
        break;
      case TargetResult::Kind::ret:
        r_.last_match = where(stack) + " (RETURN)";
        if (stack.size() == 1) return policy(builtin);
        pop(stack);
        break;
      case TargetResult::Kind::accept:
        r_.accepted = true;
        r_.last_match = where(stack);
        if (ctx.capture && r_.by.empty()) r_.by = r_.last_match;
        return End::accept;
      case TargetResult::Kind::drop:
        r_.dropped = true;
        r_.by = where(stack);
        return End::drop;
    }
  }
}

}  // namespace

bool TraceResult::captured() const { return capture && capture->kind != Capture::Kind::snat; }

namespace {

// A note outside any base chain.
TraceStep note_step(Hook hook, std::string text) {
  TraceEntry at;
  at.hook = hook;
  TraceStep n = make_step(TraceStep::Kind::note, at);
  n.text = std::move(text);
  return n;
}

TraceResult walk_packet(const TraceRules& rules, Direction dir, const Packet& p, size_t max_steps) {
  TraceResult r;
  EvalContext ctx;
  ctx.packet = p;
  Walker w(rules, r, max_steps);
  if (dir == Direction::in) {
    // Why nat is skipped on lo: only a local socket sends on lo, so the packet's connection had
    // its NAT bound at OUTPUT and POSTROUTING before it arrives (as the kernel's trace shows).
    if (p.iif == "lo")
      r.path.push_back(note_step(Hook::prerouting,
                                 "arrived on lo: sent by a local socket, its NAT bound at OUTPUT"));
    w.run(kIn, ctx, p.iif == "lo");
  } else if (w.run(kOut, ctx, false) && ctx.packet.oif == "lo") {
    // Why: a packet to a local address leaves on lo and arrives again at PREROUTING, without
    // its socket; its connection's NAT was bound at OUTPUT and POSTROUTING, so nat is skipped.
    r.path.push_back(
        note_step(Hook::prerouting, "looped back on lo: the packet arrives again at PREROUTING"));
    ctx.packet.iif = "lo";
    ctx.packet.oif.clear();
    ctx.packet.socket = false;
    w.run(kIn, ctx, true);
  }
  r.packet = ctx.packet;
  r.capture = ctx.capture;
  r.zone = ctx.zone;
  return r;
}

}  // namespace

TraceRules iptables_trace_rules(std::vector<TableModel> tables) {
  // The builtin chains istio's tables use, at the priorities iptables registers them.
  struct Builtin {
    Table table;
    Hook hook;
    int priority;
  };
  static constexpr Builtin kBuiltins[] = {
      {Table::raw, Hook::prerouting, -300},    {Table::raw, Hook::output, -300},
      {Table::mangle, Hook::prerouting, -150}, {Table::mangle, Hook::input, -150},
      {Table::mangle, Hook::output, -150},     {Table::mangle, Hook::postrouting, -150},
      {Table::nat, Hook::prerouting, -100},    {Table::nat, Hook::output, -100},
      {Table::nat, Hook::input, 100},          {Table::nat, Hook::postrouting, 100}};
  TraceRules out;
  out.tables = std::move(tables);
  for (const Builtin& b : kBuiltins) {
    const std::string table = table_name(b.table), hook = hook_name(b.hook);
    out.entries.push_back(TraceEntry{b.hook, b.table, b.priority, table, hook,
                                     fmt::format("{} {} (priority {})", table, hook, b.priority)});
  }
  return out;
}

TraceResult trace_packet(const std::vector<TableModel>& tables, Direction dir, const Packet& p,
                         size_t max_steps) {
  return trace_packet(iptables_trace_rules(tables), dir, p, max_steps);
}

TraceResult trace_packet(const TraceRules& tables, Direction dir, const Packet& p,
                         size_t max_steps) {
  TraceResult r = walk_packet(tables, dir, p, max_steps);
  for (const std::string& n : tables.not_walked)
    r.uncertain.push_back(n + " not walked (the walk covers raw, mangle and nat)");
  if (!p.established || r.capture || r.dropped || !r.error.empty()) return r;
  // A later packet goes where its connection went: the NAT mapping (or TPROXY's socket) its
  // first packet set up. That first packet is this one as NEW; its walk is not printed.
  Packet first = p;
  first.established = false;
  const TraceResult f = walk_packet(tables, dir, first, max_steps);
  if (!f.capture || !f.error.empty() || !f.uncertain.empty()) return r;
  r.capture = f.capture;
  r.by = "its connection's first packet: " + f.by;
  r.path.push_back(
      note_step(Hook::output,
                "the connection's first packet (the same packet as NEW) was captured by " + f.by));
  return r;
}

}  // namespace snare

namespace snare {

void route_packet(TraceResult& r, const std::vector<RouteOps::TproxyRoute>& routes) {
  const bool tproxied = r.capture && r.capture->kind == Capture::Kind::tproxy;
  if (routes.empty() && !tproxied) return;
  std::vector<RouteOps::TproxyRoute> ordered = routes;
  // Why 32765: a rule added without a priority is numbered just before the main table's.
  const auto prio = [](const RouteOps::TproxyRoute& x) { return x.priority ? x.priority : 32765u; };
  std::stable_sort(ordered.begin(), ordered.end(),
                   [&](const auto& a, const auto& b) { return prio(a) < prio(b); });
  TraceRouting out;
  const uint32_t mark = r.packet.mark;
  for (const RouteOps::TproxyRoute& x : ordered) {
    if ((mark & x.mask) != x.mark) continue;
    out.matched = true;
    out.rule = fmt::format("fwmark {:#x}/{:#x} lookup {}", x.mark, x.mask, x.table);
    out.note = fmt::format(
        "routing: mark {:#x} selects `{}` (priority {}), whose table holds `local default dev "
        "lo`: delivered to a local socket",
        mark, out.rule, prio(x));
    r.routing = std::move(out);
    return;
  }
  std::vector<std::string> rules;
  for (const RouteOps::TproxyRoute& x : ordered)
    rules.push_back(fmt::format("fwmark {:#x}/{:#x} lookup {}", x.mark, x.mask, x.table));
  out.note = rules.empty()
                 ? fmt::format(
                       "routing: no fwmark rule for mark {:#x}: the main table routes it "
                       "(TPROXY needs one to deliver locally)",
                       mark)
                 : fmt::format("routing: mark {:#x} selects none of {}: the main table routes it",
                               mark, fmt::join(rules, ", "));
  r.routing = std::move(out);
}

}  // namespace snare
