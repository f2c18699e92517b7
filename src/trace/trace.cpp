// The walk of one packet through the tables (see trace.h).
#include "trace/trace.h"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_set>

#include "ext/forms.h"
#include "render/save.h"

namespace snare {
namespace {

using Outcome = MatchResult::Outcome;

// One table at one hook, with the priority the kernel registers it at: raw -300, mangle -150,
// nat -100 where it maps destinations (PREROUTING, OUTPUT), 100 where it maps sources.
struct Stage {
  Hook hook;
  Table table;
  int priority;
};

constexpr Stage kOut[] = {{Hook::output, Table::raw, -300},
                          {Hook::output, Table::mangle, -150},
                          {Hook::output, Table::nat, -100},
                          {Hook::postrouting, Table::mangle, -150},
                          {Hook::postrouting, Table::nat, 100}};
constexpr Stage kIn[] = {{Hook::prerouting, Table::raw, -300},
                         {Hook::prerouting, Table::mangle, -150},
                         {Hook::prerouting, Table::nat, -100},
                         {Hook::input, Table::mangle, -150},
                         {Hook::input, Table::nat, 100}};

TraceStep make_step(TraceStep::Kind kind, Hook hook, Table table, std::string chain = {}) {
  TraceStep s;
  s.kind = kind, s.hook = hook, s.table = table, s.chain = std::move(chain);
  return s;
}

// How one table's builtin chain ended for the packet.
enum class End { accept, drop, stopped };

class Walker {
 public:
  Walker(const std::vector<TableModel>& tables, TraceResult& r, size_t max_steps)
      : tables_(tables), r_(r), max_steps_(max_steps) {}

  // Runs the stages in order; false when the packet is dropped or the walk stopped.
  bool run(const Stage* begin, const Stage* end, EvalContext& ctx, bool nat_bound) {
    for (const Stage* s = begin; s != end; ++s) {
      const TableModel* t = find_table(s->table);
      const Chain* chain = t ? t->find(hook_name(s->hook)) : nullptr;
      if (!chain) continue;
      if (s->table == Table::nat && (ctx.packet.established || nat_bound)) {
        note(*s, fmt::format("nat {} not traversed: {}", hook_name(s->hook),
                             ctx.packet.established
                                 ? "a later packet follows the NAT of its connection's first "
                                   "packet (trace without --established to see it)"
                                 : "the connection's NAT was bound at OUTPUT and POSTROUTING"));
        continue;
      }
      ctx.hook = s->hook;
      ctx.table = s->table;
      ctx.family = t->family;
      // Why: raw runs before conntrack, so a packet there has no connection state or mark yet.
      ctx.conntrack = s->table != Table::raw;
      TraceStep enter = make_step(TraceStep::Kind::enter, s->hook, s->table, chain->name);
      enter.text =
          fmt::format("{} {} (priority {})", table_name(s->table), hook_name(s->hook), s->priority);
      r_.path.push_back(std::move(enter));
      const End e = walk(*t, *chain, ctx);
      if (e != End::accept) return false;
    }
    return true;
  }

 private:
  struct Frame {
    const Chain* chain;
    size_t next;
  };

  const TableModel* find_table(Table table) const {
    for (const TableModel& t : tables_)
      if (t.table == table) return &t;
    return nullptr;
  }

  void note(const Stage& s, std::string text) {
    TraceStep n = make_step(TraceStep::Kind::note, s.hook, s.table);
    n.text = std::move(text);
    r_.path.push_back(std::move(n));
  }

  // "nat OUTPUT rule 1 -> ISTIO_OUTPUT rule 9": the chain of rules the walk is in now.
  std::string where(Table table, const std::vector<Frame>& stack) const {
    std::string out = table_name(table);
    for (size_t i = 0; i < stack.size(); ++i)
      fmt::format_to(std::back_inserter(out), "{}{} rule {}", i ? " -> " : " ",
                     stack[i].chain->name, stack[i].next);
    return out;
  }

  // The matches in the kernel's order, as iptables-save prints them (the entry header's -s -d
  // -i -o -p, then the xt matches in order), so that the failed test named is the same for a
  // plan and for its save form; a definite failure wins over a match that cannot be evaluated.
  static MatchResult eval_matches(const Rule& rule, const EvalContext& ctx) {
    MatchResult unknown;
    for (SaveSlot slot : {SaveSlot::source, SaveSlot::destination, SaveSlot::in_iface,
                          SaveSlot::out_iface, SaveSlot::proto, SaveSlot::xt_match}) {
      for (const Match& m : rule.matches) {
        if (save_slot(m) != slot) continue;
        MatchResult res = eval_match(m, ctx);
        if (res.outcome == Outcome::failed) return res;
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
        fmt::format("{} {} rule {}: {}", table_name(step.table), step.chain, step.position, why));
  }

  End policy(const TableModel& t, const Chain& builtin, const EvalContext& ctx) {
    const std::string pol = builtin.policy.empty() ? "ACCEPT" : builtin.policy;
    TraceStep s = make_step(TraceStep::Kind::policy, ctx.hook, t.table, builtin.name);
    s.text = "policy " + pol;
    r_.path.push_back(std::move(s));
    if (pol != "DROP") return End::accept;
    r_.dropped = true;
    r_.by = fmt::format("{} {} policy DROP", table_name(t.table), builtin.name);
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
        r_.error =
            fmt::format("loop between chains: {} jumps back to {}", where(t.table, stack), name);
        return nullptr;
      }
    return c;
  }

  void pop(std::vector<Frame>& stack) {
    on_stack_.erase(stack.back().chain);
    stack.pop_back();
  }

  End walk(const TableModel& t, const Chain& builtin, EvalContext& ctx);

  const std::vector<TableModel>& tables_;
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
    if (f.next >= f.chain->entries.size()) {
      if (stack.size() == 1) return policy(t, builtin, ctx);
      pop(stack);  // the end of a user chain returns to the rule after the jump
      continue;
    }
    const Entry& e = f.chain->entries[f.next++];
    if (++steps_ > max_steps_) {
      r_.error = fmt::format("more than {} rules evaluated: the walk stopped", max_steps_);
      return End::stopped;
    }
    TraceStep step = make_step(TraceStep::Kind::rule, ctx.hook, t.table, f.chain->name);
    step.position = static_cast<int>(f.next);
    step.depth = static_cast<int>(stack.size() - 1);
    step.text = render_save_rule(*e.rule, t.family);
    if (!e.unsupported.empty()) {
      uncertain(step, fmt::format("not modelled: {}", fmt::join(e.unsupported, ", ")));
      r_.path.push_back(std::move(step));
      continue;
    }
    MatchResult m = eval_matches(*e.rule, ctx);
    if (m.outcome != Outcome::matched) {
      if (m.outcome == Outcome::unknown)
        uncertain(step, std::move(m.why));
      else
        step.outcome = Outcome::failed, step.why = std::move(m.why);
      r_.path.push_back(std::move(step));
      continue;
    }
    TargetResult tr = eval_target(e.rule->target, ctx);
    step.why = tr.kind == TargetResult::Kind::jump ? "-> " + tr.chain : tr.note;
    if (tr.kind == TargetResult::Kind::unknown) uncertain(step, tr.note);
    r_.path.push_back(std::move(step));
    switch (tr.kind) {
      case TargetResult::Kind::next:
      case TargetResult::Kind::unknown:
        break;
      case TargetResult::Kind::jump:
        if (const Chain* c = enter_chain(t, tr.chain, stack, r_.path.back())) {
          stack.push_back({c, 0});
          on_stack_.insert(c);
        } else if (!r_.error.empty())
          return End::stopped;
        break;
      case TargetResult::Kind::ret:
        r_.last_match = where(t.table, stack) + " (RETURN)";
        if (stack.size() == 1) return policy(t, builtin, ctx);
        pop(stack);
        break;
      case TargetResult::Kind::accept:
        r_.accepted = true;
        r_.last_match = where(t.table, stack);
        if (ctx.capture && r_.by.empty()) r_.by = r_.last_match;
        return End::accept;
      case TargetResult::Kind::drop:
        r_.dropped = true;
        r_.by = where(t.table, stack);
        return End::drop;
    }
  }
}

}  // namespace

bool TraceResult::captured() const { return capture && capture->kind != Capture::Kind::snat; }

namespace {

TraceResult walk_packet(const std::vector<TableModel>& tables, Direction dir, const Packet& p,
                        size_t max_steps) {
  TraceResult r;
  EvalContext ctx;
  ctx.packet = p;
  Walker w(tables, r, max_steps);
  if (dir == Direction::in) {
    w.run(std::begin(kIn), std::end(kIn), ctx, false);
  } else if (w.run(std::begin(kOut), std::end(kOut), ctx, false) && ctx.packet.oif == "lo") {
    // Why: a packet to a local address leaves on lo and arrives again at PREROUTING, without
    // its socket; its connection's NAT was bound at OUTPUT and POSTROUTING, so nat is skipped.
    TraceStep n = make_step(TraceStep::Kind::note, Hook::prerouting, Table::raw);
    n.text = "looped back on lo: the packet arrives again at PREROUTING";
    r.path.push_back(std::move(n));
    ctx.packet.iif = "lo";
    ctx.packet.oif.clear();
    ctx.packet.socket = false;
    w.run(std::begin(kIn), std::end(kIn), ctx, true);
  }
  r.packet = ctx.packet;
  r.capture = ctx.capture;
  r.zone = ctx.zone;
  return r;
}

}  // namespace

TraceResult trace_packet(const std::vector<TableModel>& tables, Direction dir, const Packet& p,
                         size_t max_steps) {
  TraceResult r = walk_packet(tables, dir, p, max_steps);
  if (!p.established || r.capture || r.dropped || !r.error.empty()) return r;
  // A later packet goes where its connection went: the NAT mapping (or TPROXY's socket) its
  // first packet set up. That first packet is this one as NEW; its walk is not printed.
  Packet first = p;
  first.established = false;
  const TraceResult f = walk_packet(tables, dir, first, max_steps);
  if (!f.capture || !f.error.empty() || !f.uncertain.empty()) return r;
  r.capture = f.capture;
  r.by = "its connection's first packet: " + f.by;
  TraceStep n = make_step(TraceStep::Kind::note, Hook::output, Table::nat);
  n.text = "the connection's first packet (the same packet as NEW) was captured by " + f.by;
  r.path.push_back(std::move(n));
  return r;
}

}  // namespace snare
