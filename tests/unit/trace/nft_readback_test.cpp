// nftables rule sets read back for a walk (trace/nft_readback.h): the kernel's own listings of
// istio's nftables goldens (../shared/conformance/istio/nftables-kernel-form, what nft printed
// after applying each) read with every rule modelled, and the walk of each listing gives the
// same verdict by the same path (table, chain, position, outcome) as the walk of the same
// configuration's flags (cases.tsv). Hostile listings are one error line, never a crash.
#include "trace/nft_readback.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "builder/builder.h"
#include "fakes/config_of.h"
#include "trace/report.h"

using namespace snare;

namespace {

const std::filesystem::path kIstio = SNARE_SHARED_DIR "/conformance/istio";

std::string slurp(const std::filesystem::path& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// A cases.tsv row's shell words: single and double quotes, no expansions.
std::vector<std::string> shell_words(const std::string& line) {
  std::vector<std::string> out;
  std::string w;
  bool any = false;
  char quote = 0;
  for (char c : line) {
    if (quote) {
      if (c == quote)
        quote = 0;
      else
        w += c;
    } else if (c == '\'' || c == '"') {
      quote = c, any = true;
    } else if (c == ' ') {
      if (any || !w.empty()) out.push_back(w);
      w.clear(), any = false;
    } else {
      w += c;
    }
  }
  if (any || !w.empty()) out.push_back(w);
  return out;
}

// The flags of cases.tsv's row `name`; empty when there is none.
std::vector<std::string> case_flags(const std::string& name) {
  std::istringstream in(slurp(kIstio / "cases.tsv"));
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(name + "\t", 0) != 0) continue;
    return shell_words(line.substr(line.rfind('\t') + 1));
  }
  return {};
}

Packet pkt(const std::string& proto, const char* src, const char* dst, uint16_t dport) {
  Packet p;
  p.proto = proto;
  p.src = parse_ip(src).value;
  p.dst = parse_ip(dst).value;
  p.sport = 43210;
  p.dport = dport;
  p.uid = p.gid = 1000;
  return p;
}

struct Probe {
  Direction dir;
  Packet packet;
};

// A handful of packets of each family: an app's and the proxy's outbound connections, DNS,
// loopback, excluded and included ranges and interfaces, inbound to the app, to 15008, later
// packets.
std::vector<Probe> probes(bool v6) {
  std::vector<Probe> out;
  const char* pod = v6 ? "fd00::5" : "10.0.0.5";
  const char* peer = v6 ? "fd00::9" : "10.0.0.9";
  const char* lo = v6 ? "::1" : "127.0.0.1";
  const std::vector<const char*> dsts =
      v6 ? std::vector<const char*>{"fd00::10", "2001:db8::5", "::1", "::127.0.0.53"}
         : std::vector<const char*>{"10.96.0.10", "1.1.0.5", "9.9.0.5", "127.0.0.53"};
  for (const char* dst : dsts)
    for (uint32_t uid : {1000u, 1337u})
      for (const char* proto : {"tcp", "udp"}) {
        Packet p = pkt(proto, pod, dst, std::string(proto) == "udp" ? 53 : 80);
        p.uid = uid;
        p.socket = true;
        p.oif = p.dst.loopback() ? "lo" : "eth0";
        out.push_back({Direction::out, p});
      }
  Packet g = pkt("tcp", pod, dsts[0], 443);
  g.gid = 2020, g.socket = true, g.oif = "eth1";
  out.push_back({Direction::out, g});
  Packet e = g;
  e.established = true, e.oif = "eth0";
  out.push_back({Direction::out, e});
  Packet l = pkt("tcp", lo, lo, 15001);
  l.uid = 1337, l.socket = true, l.oif = "lo";
  out.push_back({Direction::out, l});
  for (uint16_t port : {8080, 15008, 4000, 6000, 15020})
    for (const char* iif : {"eth0", "eth1", "not-istio-nic"}) {
      Packet in = pkt("tcp", peer, pod, port);
      in.iif = iif;
      out.push_back({Direction::in, in});
    }
  Packet u = pkt("udp", peer, pod, 53);
  u.iif = "eth0";
  out.push_back({Direction::in, u});
  return out;
}

// What the comparison looks at: the verdict, and per path step its kind, table, chain,
// position and outcome (the rule text differs: the listing's own against snare's).
std::string summary(const TraceResult& r) {
  std::string out = fmt::format("{} to_port={} by={} error={} uncertain={}\n", trace_action(r),
                                r.capture && r.capture->to_port ? *r.capture->to_port : 0, r.by,
                                r.error, r.uncertain.size());
  for (const TraceStep& s : r.path)
    out += fmt::format("{} {} {} {} {}\n", static_cast<int>(s.kind), s.table_name, s.chain,
                       s.position, static_cast<int>(s.outcome));
  return out;
}

std::vector<std::filesystem::path> kernel_listings() {
  std::vector<std::filesystem::path> out;
  const std::filesystem::path dir = kIstio / "nftables-kernel-form";
  if (!std::filesystem::exists(dir)) return out;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".json") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE(
    "every nftables kernel form of the conformance table reads back with every rule modelled") {
  size_t files = 0, rules = 0;
  for (const auto& path : kernel_listings()) {
    INFO(path);
    for (Family f : {Family::v4, Family::v6}) {
      TraceRules tr;
      const Status s = nft_rules_from_json(slurp(path), f, tr);
      REQUIRE(s.ok());
      CHECK(tr.nft);
      for (const TableModel& t : tr.tables)
        for (const Chain& c : t.chains)
          for (const Entry& e : c.entries) {
            INFO(c.name << ": " << e.text);
            CHECK(e.unsupported.empty());
            ++rules;
          }
    }
    ++files;
  }
  if (files == 0) WARN("no conformance data next to the repository");
  INFO(files << " files, " << rules << " rules");
  SUCCEED();
}

TEST_CASE("the walk of each kernel listing equals the walk of its configuration's flags") {
  testing::FakeHostFacts host;
  host.groups = {{"java", 2020}, {"ftp", 2021}};  // as the kernel forms were made
  std::vector<Plan> plans;
  plans.reserve(64);  // the flags' walk points at the plan's rules
  size_t compared = 0;
  for (const auto& path : kernel_listings()) {
    const std::string name = path.stem().string();
    const std::vector<std::string> flags = case_flags("nft-" + name);
    if (flags.empty()) continue;
    INFO(name);
    plans.push_back(build_plan(testing::config_of(flags, host)));
    const std::string listing = slurp(path);
    for (bool v6 : {false, true}) {
      const Family f = v6 ? Family::v6 : Family::v4;
      TraceRules from_json;
      REQUIRE(nft_rules_from_json(listing, f, from_json).ok());
      const TraceRules from_flags = nft_trace_rules(plans.back(), f);
      for (const Probe& p : probes(v6)) {
        const TraceResult a = trace_packet(from_flags, p.dir, p.packet);
        const TraceResult b = trace_packet(from_json, p.dir, p.packet);
        INFO(trace_text(a) << "--- from the kernel's listing:\n" << trace_text(b));
        CHECK(summary(a) == summary(b));
        CHECK(b.uncertain.empty());
        ++compared;
      }
    }
  }
  // 28 kernel forms, both families, 33 or 37 packets each.
  if (!kernel_listings().empty()) CHECK(compared > 1500);
}

TEST_CASE("a kernel listing's walk: the sidecar REDIRECT and TPROXY verdicts") {
  const std::filesystem::path tproxy = kIstio / "nftables-kernel-form/tproxy.json";
  if (!std::filesystem::exists(tproxy)) return;
  TraceRules tr;
  REQUIRE(nft_rules_from_json(slurp(tproxy), Family::v4, tr).ok());
  Packet in = pkt("tcp", "10.0.0.9", "10.0.0.5", 8080);
  in.iif = "eth0";
  const TraceResult r = trace_packet(tr, Direction::in, in);
  INFO(trace_text(r));
  REQUIRE(r.capture);
  CHECK(r.capture->kind == Capture::Kind::tproxy);
  CHECK(*r.capture->to_port == 15006);
  CHECK(r.path.front().text ==
        "inet istio-proxy-raw prerouting (type filter hook prerouting priority -300)");
  CHECK(r.by ==
        "istio-proxy-mangle prerouting rule 2 -> istio-inbound rule 6 -> istio-tproxy rule 1");
  Packet out = pkt("tcp", "10.0.0.5", "9.9.0.5", 80);  // -i 9.9.0.0/16: only it is captured
  out.socket = true, out.oif = "eth0";
  const TraceResult o = trace_packet(tr, Direction::out, out);
  INFO(trace_text(o));
  REQUIRE(o.capture);
  CHECK(*o.capture->to_port == 15001);
  CHECK(o.by.rfind("istio-proxy-nat output rule ", 0) == 0);
}
