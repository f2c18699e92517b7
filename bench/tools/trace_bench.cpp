// Trace benchmark (bench/trace.sh): the time one `snare trace` query takes once the rule set is
// loaded, and the one-time cost of loading it, from a rule command's flags (the plan, replayed)
// and from an iptables-save file (the --rules path).
//
// usage: snare_bench_trace [--queries N] [--rules FILE] -- RULE-FLAGS...
//
// The queries are IPv4 packets in six kinds, in equal numbers, from a fixed seed: an app's
// packet out to an address outside every excluded CIDR (it walks past all of them: the worst
// case), an app's packet into an excluded CIDR (it returns at a random one of them), the
// proxy's packets out to both, a packet arriving for a random port, and an app's packet to a
// loopback address (walked out and in again). Each query is timed alone with a monotonic clock:
// trace_packet (the walk), then the walk with its answer as text (the default) and as JSON. One
// untimed pass over all queries first (the caches warm, as for any query after the first); the
// very first query's time is printed on its own. Both rule sets must give every packet the same
// answer, or the program fails. Loading is timed 5 times per source (the median is printed).
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>

#include "cli/cli.h"
#include "ext/forms.h"
#include "render/save_parse.h"
#include "trace/report.h"
#include "trace/trace.h"

namespace snare {
namespace {

using Clock = std::chrono::steady_clock;

double us_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
}

struct Query {
  const char* kind;
  Direction dir;
  Packet packet;
};

IpAddr v4(uint32_t a) {
  IpAddr ip;
  for (int i = 0; i < 4; ++i) ip.bytes[static_cast<size_t>(i)] = (a >> (24 - 8 * i)) & 0xff;
  return ip;
}

// Outside every excluded CIDR (10.0.0.0/24 ... 10.7.207.0/24): 172.16/12 and 192.168/16.
uint32_t outside(std::mt19937& rng) {
  return rng() % 2 ? 0xac100000u | (rng() & 0xfffffu) : 0xc0a80000u | (rng() & 0xffffu);
}

std::vector<Query> make_queries(size_t n, size_t cidrs) {
  std::mt19937 rng(18);
  std::vector<Query> out;
  const uint32_t pod = 0x0a640005u;  // 10.100.0.5, the pod's own address (outside the CIDRs)
  for (size_t i = 0; i < n; ++i) {
    Query q{"", Direction::out, {}};
    Packet& p = q.packet;
    p.proto = rng() % 4 ? "tcp" : "udp";
    p.src = v4(pod), p.sport = static_cast<uint16_t>(32768 + rng() % 28000);
    p.dport = static_cast<uint16_t>(1 + rng() % 65535);
    p.uid = p.gid = 1000, p.socket = true, p.oif = "eth0";
    const uint32_t excluded = 0x0a000000u | static_cast<uint32_t>(rng() % cidrs) << 8 | rng() % 256;
    switch (i % 6) {
      case 0:
        q.kind = "app out, not excluded", p.dst = v4(outside(rng));
        break;
      case 1:
        q.kind = "app out, excluded CIDR", p.dst = v4(excluded);
        break;
      case 2:
        q.kind = "proxy out, not excluded", p.dst = v4(outside(rng)), p.uid = 1337;
        break;
      case 3:
        q.kind = "proxy out, excluded CIDR", p.dst = v4(excluded), p.uid = 1337;
        break;
      case 4:
        q.kind = "inbound", q.dir = Direction::in, p.dst = v4(pod), p.src = v4(outside(rng));
        p.socket = false, p.oif.clear(), p.iif = "eth0";
        if (rng() % 4 == 0) p.dport = std::array<uint16_t, 3>{15090, 15021, 15020}[rng() % 3];
        break;
      default:
        q.kind = "app out, loopback", p.dst = v4(0x7f000001u), p.oif = "lo";
        break;
    }
    out.push_back(std::move(q));
  }
  return out;
}

struct Stats {
  double p50, p99, max;
};

Stats stats(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  auto at = [&](double q) { return v[std::min(v.size() - 1, static_cast<size_t>(q * v.size()))]; };
  return {at(0.5), at(0.99), v.back()};
}

size_t rules_in(const std::vector<TableModel>& tables) {
  size_t n = 0;
  for (const TableModel& t : tables)
    for (const Chain& c : t.chains) n += c.entries.size();
  return n;
}

void print_row(const char* what, const std::vector<double>& v) {
  const Stats s = stats(v);
  std::printf("  %-34s %8.1f %8.1f %8.1f\n", what, s.p50, s.p99, s.max);
}

// Times every query on `tables`, prints the walk's and walk+JSON's p50/p99/max, and returns the
// answers (their summaries) for the comparison between the two sources.
std::vector<std::string> run_queries(const char* source, const std::vector<TableModel>& tables,
                                     const std::vector<Query>& qs, double load_us) {
  std::vector<std::string> answers;
  const Clock::time_point c0 = Clock::now();
  answers.push_back(trace_summary(trace_packet(tables, qs[0].dir, qs[0].packet)));
  const double cold = us_since(c0);
  for (size_t i = 1; i < qs.size(); ++i)  // the untimed warm-up pass
    answers.push_back(trace_summary(trace_packet(tables, qs[i].dir, qs[i].packet)));
  std::vector<double> walk, text, full, worst;
  for (const Query& q : qs) {
    Clock::time_point t0 = Clock::now();
    const TraceResult r = trace_packet(tables, q.dir, q.packet);
    walk.push_back(us_since(t0));
    if (q.kind == qs[0].kind) worst.push_back(walk.back());
    t0 = Clock::now();
    const std::string lines = trace_text(trace_packet(tables, q.dir, q.packet));
    text.push_back(us_since(t0));
    t0 = Clock::now();
    const std::string json = trace_json(trace_packet(tables, q.dir, q.packet));
    full.push_back(us_since(t0));
  }
  std::printf("%s: %zu rules, loaded in %.2f ms (median of 5); first query (cold) %.1f us\n",
              source, rules_in(tables), load_us / 1000, cold);
  std::printf("  %-34s %8s %8s %8s   (us, %zu queries)\n", "", "p50", "p99", "max", qs.size());
  print_row("walk (trace_packet)", walk);
  print_row("walk + text answer (the default)", text);
  print_row("walk + JSON answer", full);
  print_row(fmt::format("walk, worst kind ({})", qs[0].kind).c_str(), worst);
  return answers;
}

constexpr int kLoads = 5;  // each source is loaded this many times; the median is printed

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// From the flags: parse, plan, replay into the tables the kernel would hold (`-- FLAGS`).
// The tables point at the plan's rules: `plan` must outlive them.
int load_plan(const std::vector<std::string>& flags, Config& cfg, Plan& plan,
              std::vector<TableModel>& out, double& us) {
  std::vector<double> times;
  for (int i = 0; i < kLoads; ++i) {
    const Clock::time_point t0 = Clock::now();
    cfg = Config{};
    out.clear();
    plan = Plan{};
    if (int rc = plan_from_flags(Command::sidecar, flags, "snare_bench_trace", {}, cfg, plan);
        rc >= 0)
      return rc;
    out = replay_fresh(plan, entered_chain, Family::v4);
    times.push_back(us_since(t0));
  }
  us = median(times);
  return -1;
}

// From the save file: read and parse, as `snare trace --rules FILE` does.
int load_file(const std::string& path, std::vector<TableModel>& out, double& us) {
  std::vector<double> times;
  for (int i = 0; i < kLoads; ++i) {
    const Clock::time_point t0 = Clock::now();
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    out.clear();
    if (Status s = parse_save_text(text.str(), Family::v4, out); !s.ok())
      return std::fprintf(stderr, "%s: %s\n", path.c_str(), s.error.c_str()), 1;
    times.push_back(us_since(t0));
  }
  us = median(times);
  return -1;
}

int bench(int argc, char** argv) {
  size_t n = 2400;
  std::string rules_file;
  std::vector<std::string> flags;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--") {
      flags.assign(argv + i + 1, argv + argc);
      break;
    }
    if (a == "--queries" && i + 1 < argc)
      n = std::max<size_t>(6, std::stoul(argv[++i]));
    else if (a == "--rules" && i + 1 < argc)
      rules_file = argv[++i];
    else
      return std::fprintf(stderr, "usage: %s [--queries N] [--rules FILE] -- FLAGS\n", argv[0]), 2;
  }
  Config cfg;
  Plan plan;
  std::vector<TableModel> planned, parsed;
  double plan_us = 0, parse_us = 0;
  if (int rc = load_plan(flags, cfg, plan, planned, plan_us); rc >= 0) return rc;
  const std::vector<Query> qs = make_queries(n, std::max<size_t>(1, cfg.exclude_cidrs_v4.size()));
  const auto a = run_queries("flags (plan)", planned, qs, plan_us);
  if (rules_file.empty()) return 0;
  if (int rc = load_file(rules_file, parsed, parse_us); rc >= 0) return rc;
  const auto b = run_queries("--rules (iptables-save text)", parsed, qs, parse_us);
  for (size_t i = 0; i < qs.size(); ++i)
    if (a[i] != b[i])
      return std::fprintf(stderr, "query %zu (%s): plan says \"%s\", file says \"%s\"\n", i,
                          qs[i].kind, a[i].c_str(), b[i].c_str()),
             1;
  std::printf("both sources: the same answer for all %zu queries\n", qs.size());
  return 0;
}

}  // namespace
}  // namespace snare

int main(int argc, char** argv) { return snare::bench(argc, argv); }
