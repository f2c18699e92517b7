// `snare trace DIRECTION PROTO SRC DST [FLAGS] (-- RULE-COMMAND-FLAGS | --rules FILE)`: the
// packet from the arguments, the rule set from a rule command's flags (its plan, replayed as the
// kernel would hold it) or from iptables-save text (render/save_parse.h), the walk
// (trace/trace.h) and its answer (trace/report.h).
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <optional>

#include "apply/routing.h"
#include "base/log.h"
#include "base/parse.h"
#include "cli/cli.h"
#include "cli/trace_sources.h"
#include "ext/forms.h"
#include "kernel/netns.h"
#include "model/table.h"
#include "trace/report.h"
#include "trace/trace.h"

namespace snare {
namespace {

const char* kTraceHelp =
    "usage: snare trace DIRECTION PROTO SRC DST [FLAGS] (-- RULE-COMMAND-FLAGS | --rules FILE |\n"
    "                   --network-namespace PATH | --netns-pid PID)\n"
    "Where one packet goes through the capture rules, and why: every table and chain it passes\n"
    "in the kernel's order, every rule matched or not (and which test failed), the verdict.\n"
    "No root needed for the plan the rule flags make or a --rules file; root for a namespace.\n"
    "  DIRECTION  out (from a local process) or in (arriving on an interface)\n"
    "  PROTO      tcp or udp\n"
    "  SRC, DST   ADDR:PORT, IPv6 as [ADDR]:PORT\n"
    "  -- FLAGS   the rule set: snare's rule flags (-p 15001 -z 15006 -m REDIRECT ...), or\n"
    "             `ambient FLAGS` / `ambient-host FLAGS`; with --native-nftables the walk\n"
    "             goes through istio's nftables tables (inet istio-proxy-*/istio-ambient-*);\n"
    "             or instead:\n"
    "Flags:\n"
    "      --uid N            the sending socket's user (out; default 1000)\n"
    "      --gid N            the sending socket's group (out; default 1000)\n"
    "      --iif NAME         input interface (in; default eth0, lo from a loopback source)\n"
    "      --oif NAME         output interface (out; default eth0, lo to a loopback address)\n"
    "      --mark N[/MASK]    the packet's mark (default 0)\n"
    "      --ctmark N         its connection's mark (default 0)\n"
    "      --socket-exists    the packet belongs to a local socket (default: out only)\n"
    "      --established      a later packet of the connection (default: the first)\n"
    "      --rules FILE       the rule set as iptables-save (or ip6tables-save) text, twice\n"
    "                         for both families' files; or as `nft -j list ruleset` JSON\n"
    "                         (told by its content; alone: it holds both families), whose\n"
    "                         tables of family ip, ip6 and inet are walked, any name\n"
    "      --network-namespace PATH  the rule set the kernel holds in that namespace: its\n"
    "                         x_tables and its nf_tables (ip, ip6, inet); root, read only;\n"
    "                         with --live: where the kernel answers\n"
    "      --netns-pid PID    the same, for the namespace of that process\n"
    "      --output FORMAT    text (default) or json; the path's \"hook\" is the kernel's hook\n"
    "                         in iptables' spelling (PREROUTING, INPUT, OUTPUT, POSTROUTING)\n"
    "                         in both modes, \"table\" and \"chain\" as the rule set names them\n"
    "      --live             also ask the kernel (nftables trace events; root; rule flags with\n"
    "                         --native-nftables after --): a temporary table inet\n"
    "                         snare-trace-PID traces the packet, which a child process\n"
    "                         sends as --uid/--gid (--mark: SO_MARK); `in` not on lo waits for\n"
    "                         someone else to send it. In the namespace of --network-namespace/\n"
    "                         --netns-pid, or the current one. Printed after the simulation\n"
    "                         (JSON: \"live\"), disagreements marked\n"
    "      --live-timeout S   how long --live waits for the packet (default 5, 1 to 3600)\n"
    "  -h, --help             this help\n"
    "A rule the simulator cannot read (a statement or option no extension models) is named and\n"
    "makes the answer \"uncertain\"; it is never guessed.\n"
    "Exit: 0 answered (also when uncertain), 1 the namespace could not be read (--live: no\n"
    "kernel answer), 2 bad arguments or a bad --rules file (one line on stderr naming the flag,\n"
    "the file and the item), 3 (--live) the kernel and the simulation disagree, 130/143\n"
    "(--live) interrupted by SIGINT/SIGTERM (the temporary table is removed).\n";

struct TraceArgs {
  Direction dir = Direction::out;
  Packet packet;
  bool iif_set = false, oif_set = false, socket_set = false, json = false, help = false;
  std::vector<std::string> rule_args;
  bool have_rules = false;
  std::vector<std::string> rules_files;  // --rules, once per family
  std::string netns_path;                // --network-namespace
  int netns_pid = 0;                     // --netns-pid
  bool live = false, mark_set = false;   // --live; --mark given
  int live_timeout = 5;                  // --live-timeout, seconds
};

Status parse_endpoint(const std::string& text, IpAddr& addr, uint16_t& port) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos) return Status::Fail("expected ADDR:PORT");
  std::string host = text.substr(0, colon);
  if (host.size() > 1 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  else if (host.find(':') != std::string::npos)
    return Status::Fail("an IPv6 address goes in brackets: [ADDR]:PORT");
  auto a = parse_ip(host);
  if (!a.ok()) return Status::Fail(a.error);
  auto p = parse_port(text.substr(colon + 1));
  if (!p.ok()) return Status::Fail(p.error);
  addr = a.value, port = p.value;
  return Status::Ok();
}

Status set_positional(size_t index, const std::string& v, TraceArgs& t) {
  switch (index) {
    case 0:
      if (v != "out" && v != "in") return Status::Fail("expected out or in");
      t.dir = v == "out" ? Direction::out : Direction::in;
      return Status::Ok();
    case 1:
      if (v != "tcp" && v != "udp") return Status::Fail("expected tcp or udp");
      t.packet.proto = v;
      return Status::Ok();
    case 2:
      return parse_endpoint(v, t.packet.src, t.packet.sport);
    case 3:
      return parse_endpoint(v, t.packet.dst, t.packet.dport);
  }
  return Status::Fail("unexpected argument (the rule flags go after --)");
}

Status set_u32(const std::string& v, uint32_t& out) {
  auto n = parse_u32(v);
  if (!n.ok()) return Status::Fail(n.error);
  out = n.value;
  return Status::Ok();
}

// One packet flag with its value (`--uid 0`, `--uid=0`).
Status set_flag(const std::string& name, const std::string& v, TraceArgs& t) {
  Packet& p = t.packet;
  if (name == "--uid") return set_u32(v, p.uid);
  if (name == "--gid") return set_u32(v, p.gid);
  if (name == "--ctmark") return set_u32(v, p.ctmark);
  if (name == "--mark") {
    auto m = parse_mark(v);
    if (!m.ok()) return Status::Fail(m.error);
    p.mark = m.value.value & m.value.mask;
    t.mark_set = true;
    return Status::Ok();
  }
  if (name == "--iif" || name == "--oif") {
    auto n = parse_interface(v);
    if (!n.ok()) return Status::Fail(n.error);
    (name == "--iif" ? p.iif : p.oif) = n.value;
    (name == "--iif" ? t.iif_set : t.oif_set) = true;
    return Status::Ok();
  }
  if (name == "--rules") {
    if (t.rules_files.size() == 2) return Status::Fail("at most twice (one file per family)");
    t.rules_files.push_back(v);
    return Status::Ok();
  }
  if (name == "--network-namespace") {
    if (v.empty()) return Status::Fail("expected a path");
    t.netns_path = v;
    return Status::Ok();
  }
  if (name == "--netns-pid") {
    auto n = parse_u32(v);
    if (!n.ok() || n.value == 0 || n.value > 0x3fffffff)
      return Status::Fail("expected a process id");
    t.netns_pid = static_cast<int>(n.value);
    return Status::Ok();
  }
  if (name == "--live-timeout") {
    auto n = parse_u32(v);
    if (!n.ok() || n.value == 0 || n.value > 3600)
      return Status::Fail("expected seconds, 1 to 3600");
    t.live_timeout = static_cast<int>(n.value);
    return Status::Ok();
  }
  if (name == "--output") {
    if (v != "json" && v != "text") return Status::Fail("expected json or text");
    t.json = v == "json";
    return Status::Ok();
  }
  return Status::Fail("unknown flag");
}

bool takes_value(const std::string& name) {
  for (const char* f : {"--uid", "--gid", "--ctmark", "--mark", "--iif", "--oif", "--output",
                        "--rules", "--network-namespace", "--netns-pid", "--live-timeout"})
    if (name == f) return true;
  return false;
}

Status parse_trace_args(const std::vector<std::string>& args, TraceArgs& t) {
  t.packet.uid = t.packet.gid = 1000;
  size_t positional = 0;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      t.rule_args.assign(args.begin() + static_cast<long>(i) + 1, args.end());
      t.have_rules = true;
      break;
    }
    if (a == "--help" || a == "-h") {
      t.help = true;
      return Status::Ok();
    }
    if (a == "--live") {
      t.live = true;
      continue;
    }
    if (a == "--socket-exists" || a == "--established") {
      (a == "--established" ? t.packet.established : t.packet.socket) = true;
      t.socket_set = t.socket_set || a == "--socket-exists";
      continue;
    }
    if (a.size() > 1 && a[0] == '-' && a != "-") {
      const size_t eq = a.find('=');
      const std::string name = a.substr(0, eq);
      if (!takes_value(name)) return Status::Fail(fmt::format("{}: unknown flag", name));
      if (eq == std::string::npos && i + 1 >= args.size())
        return Status::Fail(fmt::format("{}: needs a value", name));
      const std::string v = eq == std::string::npos ? args[++i] : a.substr(eq + 1);
      if (Status s = set_flag(name, v, t); !s.ok())
        return Status::Fail(fmt::format("{} \"{}\": {}", name, v, s.error));
      continue;
    }
    if (Status s = set_positional(positional++, a, t); !s.ok())
      return Status::Fail(fmt::format("argument {} \"{}\": {}", positional, a, s.error));
  }
  if (positional < 4) return Status::Fail("needs DIRECTION PROTO SRC DST (see --help)");
  if (t.packet.src.v6 != t.packet.dst.v6)
    return Status::Fail("SRC and DST are of different address families");
  // With --live the namespace is where the kernel answers, the rules still come from the flags.
  const bool live = (!t.netns_path.empty() || t.netns_pid > 0) && !t.live;
  if (t.live && !t.have_rules)
    return Status::Fail("--live: give the rule flags after -- (with --native-nftables)");
  if (t.live && t.packet.established)
    return Status::Fail("--live traces a connection's first packet: drop --established");
  if (int(t.have_rules) + int(!t.rules_files.empty()) + int(live) != 1)
    return Status::Fail(
        "give the rule set once: rule flags after --, --rules FILE, or --network-namespace / "
        "--netns-pid");
  if (!t.netns_path.empty() && t.netns_pid > 0)
    return Status::Fail("--network-namespace and --netns-pid: give one");
  return Status::Ok();
}

// The devices and the socket a packet has by default: a packet from a local process has its
// socket and leaves on lo to a loopback address, on eth0 otherwise; an arriving one comes in
// on eth0, or on lo from a loopback address.
void default_devices(TraceArgs& t) {
  Packet& p = t.packet;
  if (t.dir == Direction::out) {
    if (!t.oif_set) p.oif = p.dst.loopback() ? "lo" : "eth0";
    if (!t.iif_set) p.iif.clear();
    if (!t.socket_set) p.socket = true;
  } else {
    if (!t.iif_set) p.iif = p.src.loopback() ? "lo" : "eth0";
    if (!t.oif_set) p.oif.clear();
  }
}

// One prefix, as every other command's errors: the message names the flag or the input.
void trace_error(const std::string& msg) {
  log_record_error(msg);
  std::fprintf(stderr, "snare: error: trace: %s\n", msg.c_str());
}

int print_trace(const TraceResult& r, bool json) {
  std::fputs((json ? trace_json(r) : trace_text(r)).c_str(), stdout);
  return 0;
}

// --live's options: the packet, the temporary table, the simulated tables to list.
LiveOptions live_options(const TraceArgs& t, const TraceRules& rules) {
  LiveOptions o;
  o.dir = t.dir;
  o.packet = t.packet;
  if (t.mark_set) o.mark = t.packet.mark;
  o.timeout_ms = t.live_timeout * 1000;
  o.table = fmt::format("snare-trace-{}", ::getpid());
  for (const TraceEntry& e : rules.entries)
    if (std::find(o.traced_tables.begin(), o.traced_tables.end(), e.table_name) ==
        o.traced_tables.end())
      o.traced_tables.push_back(e.table_name);
  // Why wait: a packet arriving on another interface can only come from elsewhere; one on lo
  // can be made here.
  o.wait_for_peer = t.dir == Direction::in && t.packet.iif != "lo";
  if (o.wait_for_peer)
    o.on_waiting = [&t] {
      std::fprintf(stderr,
                   "snare trace: waiting up to %d s for the packet (%s %s:%u -> %s:%u on %s), "
                   "sent by someone else\n",
                   t.live_timeout, t.packet.proto.c_str(), t.packet.src.text().c_str(),
                   t.packet.sport, t.packet.dst.text().c_str(), t.packet.dport,
                   t.packet.iif.c_str());
    };
  return o;
}

// The rule set from a rule command's flags after --; with --live, the kernel's answer too, in
// the namespace given (entered first, so that the plan sees its addresses, as an apply there).
int trace_from_flags(TraceArgs& t, Family family, const Commands& cmds) {
  Command kind = Command::sidecar;
  std::string command = "snare trace --";
  if (!t.rule_args.empty() && (t.rule_args[0] == "ambient" || t.rule_args[0] == "ambient-host")) {
    kind = t.rule_args[0] == "ambient" ? Command::ambient : Command::ambient_host;
    command += " " + t.rule_args[0];
    t.rule_args.erase(t.rule_args.begin());
  }
  if (t.live)
    if (Status s = enter_netns(t.netns_path, t.netns_pid); !s.ok()) {
      trace_error(s.error);
      return 1;
    }
  Config cfg;
  Plan plan;
  if (int rc = plan_from_flags(kind, t.rule_args, command, cmds, cfg, plan); rc >= 0) return rc;
  // Why two sources: --native-nftables writes the same rules as inet tables with their own
  // base chains (nft_layout), iptables as each family's tables (the replay).
  const TraceRules rules = plan.dialect == Dialect::nftables
                               ? nft_trace_rules(plan, family)
                               : iptables_trace_rules(replay_fresh(plan, entered_chain, family));
  TraceResult sim = trace_packet(rules, t.dir, t.packet);
  std::vector<RouteOps::TproxyRoute> routes;
  for (const auto& [f, route] : needed_routes(cfg, plan))
    if (f == family) routes.push_back(route);
  route_packet(sim, routes);
  if (!t.live) return print_trace(sim, t.json);
  if (plan.dialect != Dialect::nftables) {
    trace_error(
        "--live: the kernel's trace events are nftables': add --native-nftables to the "
        "rule flags");
    return 2;
  }
  const LiveOptions o = live_options(t, rules);
  return print_live_trace(sim, o, t.json, cmds);
}

}  // namespace

int run_trace(const std::vector<std::string>& args, const Commands& cmds) {
  TraceArgs t;
  if (Status s = parse_trace_args(args, t); !s.ok() || t.help) {
    if (t.help) return std::fputs(kTraceHelp, stdout), 0;
    trace_error(s.error);
    return 2;
  }
  default_devices(t);
  const Family family = t.packet.dst.v6 ? Family::v6 : Family::v4;
  if ((!t.netns_path.empty() || t.netns_pid > 0) && !t.live) {
    // The kernel's x_tables and nf_tables of that namespace, read only (as verify reads them).
    TraceRules rules;
    Status s = enter_netns(t.netns_path, t.netns_pid);
    if (s.ok()) s = trace_rules_from_kernel(cmds, family, rules);
    std::vector<RouteOps::TproxyRoute> routes;
    if (s.ok() && cmds.policy_routes) s = cmds.policy_routes(family, routes);
    if (!s.ok()) {
      trace_error(s.error);
      return 1;
    }
    TraceResult r = trace_packet(rules, t.dir, t.packet);
    route_packet(r, routes);
    return print_trace(r, t.json);
  }
  if (!t.rules_files.empty()) {
    TraceRules rules;
    if (Status s = trace_rules_from_files(t.rules_files, family, rules); !s.ok()) {
      trace_error(s.error);
      return 2;
    }
    return print_trace(trace_packet(rules, t.dir, t.packet), t.json);
  }
  return trace_from_flags(t, family, cmds);
}

}  // namespace snare
