// Hostile nftables listings (a --rules file is untrusted): each is one error line naming what is
// wrong (the item, table, chain and rule), or reads with what no extension models left
// unmodelled; a seeded deterministic fuzz over the conformance kernel forms never crashes the
// reader or the walk.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "render/save_parse.h"
#include "trace/nft_readback.h"
#include "trace/report.h"

using namespace snare;

namespace {

std::string error_of(const std::string& text, const NftJsonLimits& limits = {}) {
  TraceRules tr;
  const Status s = nft_rules_from_json(text, Family::v4, tr, limits);
  return s.ok() ? "ok" : s.error;
}

const std::string kHead =
    R"({"nftables": [{"table": {"family": "inet", "name": "t"}},)"
    R"({"chain": {"family": "inet", "table": "t", "name": "out", "type": "nat", "hook": "output",)"
    R"( "prio": -100, "policy": "accept"}},)"
    R"({"chain": {"family": "inet", "table": "t", "name": "a"}},)"
    R"({"chain": {"family": "inet", "table": "t", "name": "b"}})";

std::string with_rules(const std::string& rules) { return kHead + rules + "]}"; }

std::string rule(const std::string& chain, const std::string& expr) {
  return R"(,{"rule": {"family": "inet", "table": "t", "chain": ")" + chain + R"(", "expr": )" +
         expr + "}}";
}

Packet app_packet() {
  Packet p;
  p.src = parse_ip("10.0.0.5").value;
  p.dst = parse_ip("10.96.0.10").value;
  p.dport = 80;
  p.socket = true;
  p.oif = "eth0";
  p.uid = p.gid = 1000;
  return p;
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("hostile nft listings are one error line naming the item, table, chain and rule") {
  CHECK(error_of("{\"nftables\": 1}") == "not an nft listing: no \"nftables\" list at the top");
  CHECK(error_of("{\"nftables\": [").rfind("not JSON: ", 0) == 0);
  CHECK(error_of(std::string(100, '[')) == "nested deeper than 32 levels");
  CHECK(error_of(with_rules(""), NftJsonLimits{.max_bytes = 10}) == "more than 10 bytes");
  CHECK(error_of(with_rules(rule("nope", "[]"))) ==
        "item 5 (rule): table inet t chain nope: the chain was not listed before its rule");
  CHECK(error_of(with_rules(rule("a", "{}"))) ==
        "item 5 (rule): table inet t chain a rule 1: no \"expr\" list of statements");
  CHECK(error_of(with_rules(R"(,{"chain": {"family": "inet", "table": "x", "name": "c"}})")) ==
        "item 5 (chain): table inet x was not listed before it");
  CHECK(error_of(with_rules(R"(,{"chain": {"family": "inet", "table": "t", "name": "a"}})")) ==
        "item 5 (chain): table inet t chain a: listed twice");
  CHECK(error_of(with_rules(R"(,{"chain": {"family": "inet", "table": "t", "name": "c",)"
                            R"( "hook": "output", "type": "nat", "prio": "x"}})")) ==
        "item 5 (chain): table inet t chain c: a base chain needs \"hook\", \"type\" and \"prio\"");
  CHECK(error_of(with_rules(R"(,{"chain": {"family": "inet", "table": "t", "name": "c",)"
                            R"( "hook": "output", "type": "nat", "prio": 0, "policy": 7}})")) ==
        "item 5 (chain): table inet t chain c: policy is not \"accept\" or \"drop\"");
  CHECK(error_of(with_rules(",7")) == "item 5: not an object of one kind");
  CHECK(error_of(with_rules(R"(,{"table": {"family": "inet", "name": "t"}})")) ==
        "item 5 (table): table inet t listed twice");
  NftJsonLimits few;
  few.max_statements = 2;
  CHECK(error_of(with_rules(rule("a", "[1,2,3]")), few) ==
        "item 5 (rule): table inet t chain a rule 1: more than 2 statements");
  // A name with a newline stays one line.
  const std::string e = error_of(with_rules(rule("x\\ny", "[]")));
  CHECK(e.find('\n') == std::string::npos);
}

TEST_CASE("statements no extension reads leave the rule unmodelled: uncertain, named, no guess") {
  TraceRules tr;
  REQUIRE(nft_rules_from_json(
              with_rules(rule("out", R"([{"counter": null}, {"jump": {"target": "a"}}])") +
                         rule("a", R"([{"limit": {"rate": 1}}, {"accept": null}])") +
                         rule("a", R"([{"goto": {"target": "b"}}])") +
                         rule("a", R"([{"accept": null}, {"match": {"op": "==", "left": )"
                                   R"({"meta": {"key": "l4proto"}}, "right": "tcp"}}])")),
              Family::v4, tr)
              .ok());
  const TraceResult r = trace_packet(tr, Direction::out, app_packet());
  INFO(trace_text(r));
  REQUIRE(r.uncertain.size() == 3);
  CHECK(r.uncertain[0].find("t a rule 1: not modelled: statement 1 {\"limit\"") == 0);
  CHECK(r.uncertain[1].find("statement 1 {\"goto\"") != std::string::npos);
  CHECK(r.uncertain[2].find("statement 2") != std::string::npos);  // after the verdict
}

TEST_CASE("a statement of an extension's shape with a value of another type is not taken") {
  // The listing's printer reads what the extensions took: a tproxy family that is no string,
  // a port that is no number, must leave the rule unmodelled, never reach it.
  for (const char* expr :
       {R"([{"tproxy": {"family": 7, "port": 15006}}, {"mangle": {"key": {"meta": {"key": )"
        R"("mark"}}, "value": 1}}, {"accept": null}])",
        R"([{"redirect": {"port": "x"}}])", R"([{"jump": {"target": 7}}])",
        R"([{"match": {"op": 1, "left": {"meta": {"key": "l4proto"}}, "right": "tcp"}}, )"
        R"({"accept": null}])",
        R"([{"match": {"op": "==", "left": {"payload": {"protocol": 1, "field": "dport"}}, )"
        R"("right": 80}}, {"accept": null}])"}) {
    INFO(expr);
    TraceRules tr;
    REQUIRE(nft_rules_from_json(with_rules(rule("out", expr)), Family::v4, tr).ok());
    const TraceResult r = trace_packet(tr, Direction::out, app_packet());
    CHECK(r.uncertain.size() == 1);
  }
}

TEST_CASE("long names and statements in any script are cut whole, and the JSON answer holds") {
  std::string name;
  for (int i = 0; i < 80; ++i) name += "\u00e9";  // 160 bytes of two-byte characters
  std::string wide;
  for (int i = 0; i < 100; ++i) wide += "\u20ac";  // three-byte characters
  const std::string text = R"({"nftables": [{"table": {"family": "ip", "name": "x)" + name +
                           R"("}},)" + R"({"chain": {"family": "ip", "table": "x)" + name +
                           R"(", "name": "o", "type": "nat", "hook": "output", "prio": 0}},)" +
                           R"({"rule": {"family": "ip", "table": "x)" + name +
                           R"(", "chain": "o", "expr": [)" + R"({"log": {"prefix": ")" + wide +
                           R"("}}, {"accept": null}]}}]})";
  TraceRules tr;
  REQUIRE(nft_rules_from_json(text, Family::v4, tr).ok());
  const TraceResult r = trace_packet(tr, Direction::out, app_packet());
  REQUIRE(r.uncertain.size() == 1);
  const nlohmann::json j = nlohmann::json::parse(trace_json(r));  // throws on a cut character
  CHECK(j["uncertain"].size() == 1);
}

TEST_CASE("tables of the other family and other hooks are left out, foreign tables walked") {
  const std::string text =
      R"({"nftables": [{"table": {"family": "ip6", "name": "six"}},)"
      R"({"chain": {"family": "ip6", "table": "six", "name": "o", "type": "filter",)"
      R"( "hook": "output", "prio": 0, "policy": "drop"}},)"
      R"({"table": {"family": "ip", "name": "filter"}},)"
      R"({"chain": {"family": "ip", "table": "filter", "name": "fwd", "type": "filter",)"
      R"( "hook": "forward", "prio": 0}},)"
      R"({"chain": {"family": "ip", "table": "filter", "name": "OUTPUT", "type": "filter",)"
      R"( "hook": "output", "prio": 0, "policy": "drop"}},)"
      R"({"table": {"family": "arp", "name": "a"}}]})";
  TraceRules tr;
  REQUIRE(nft_rules_from_json(text, Family::v4, tr).ok());
  REQUIRE(tr.entries.size() == 1);
  const TraceResult r = trace_packet(tr, Direction::out, app_packet());
  INFO(trace_text(r));
  CHECK(r.dropped);
  CHECK(r.by == "ip filter OUTPUT policy drop");
  CHECK(r.path.front().text == "ip filter OUTPUT (type filter hook output priority 0)");
}

TEST_CASE("a loop between chains of a listing is reported, not followed") {
  TraceRules tr;
  REQUIRE(nft_rules_from_json(with_rules(rule("out", R"([{"jump": {"target": "a"}}])") +
                                         rule("a", R"([{"jump": {"target": "b"}}])") +
                                         rule("b", R"([{"jump": {"target": "a"}}])")),
                              Family::v4, tr)
              .ok());
  const TraceResult r = trace_packet(tr, Direction::out, app_packet());
  CHECK(r.error.find("loop between chains") == 0);
}

TEST_CASE("mutated nft listings never crash the reader or the walk") {
  // A seeded deterministic fuzz: the conformance kernel forms with bytes flipped, cut and
  // repeated, and with JSON values swapped for values of other types; each reads or fails with
  // one line, and what reads is walked to its end.
  const std::filesystem::path root = SNARE_SHARED_DIR "/conformance/istio/nftables-kernel-form";
  if (!std::filesystem::exists(root)) return;
  uint32_t seed = 4242;
  auto next = [&] { return seed = seed * 1103515245u + 12345u, seed >> 8; };
  const char alphabet[] = " {}[]\":,0123456789-abcdeflnrstu@\\";
  // Primitives only: unflatten takes no other.
  const nlohmann::json odd[] = {nullptr, 7, -1, "x", "@", 4294967296u, 1e300, true, "\\*+"};
  size_t read = 0, refused = 0;
  for (const auto& e : std::filesystem::directory_iterator(root)) {
    if (e.path().extension() != ".json") continue;
    const std::string base = slurp(e.path());
    for (int round = 0; round < 30; ++round) {
      std::string text = base;
      if (round % 2 == 0) {
        for (int k = 0; k < 1 + round % 4; ++k) {
          const size_t at = next() % (text.size() + 1);
          if (next() % 2 && at < text.size())
            text[at] = alphabet[next() % (sizeof alphabet - 1)];
          else
            text.insert(at, text.substr(at, next() % 60));
        }
      } else {
        // Why flatten: every value of the document, one of which takes an odd value.
        nlohmann::json doc = nlohmann::json::parse(text);
        nlohmann::json flat = doc.flatten();
        auto it = flat.begin();
        std::advance(it, static_cast<long>(next() % flat.size()));
        it.value() = odd[next() % (sizeof odd / sizeof odd[0])];
        text = flat.unflatten().dump();
      }
      for (Family f : {Family::v4, Family::v6}) {
        TraceRules tr;
        const Status s = nft_rules_from_json(text, f, tr);
        if (!s.ok()) {
          CHECK(s.error.find('\n') == std::string::npos);
          ++refused;
          continue;
        }
        ++read;
        Packet p = app_packet();
        if (f == Family::v6) p.src = parse_ip("fd00::5").value, p.dst = parse_ip("fd00::10").value;
        trace_text(trace_packet(tr, Direction::out, p));
        trace_json(trace_packet(tr, Direction::in, p));
      }
    }
  }
  INFO(read << " read, " << refused << " refused");
  CHECK(read + refused > 0);
}

TEST_CASE("a namespace's x_tables and nf_tables walked together, each entry in its own table") {
  // An ip table of type nat at OUTPUT, priority -101, redirects; x_tables' nat OUTPUT would
  // return: the walk enters the nft chain first (lower priority), and the kernel evaluates a
  // hook's nat chains only until one binds the mapping, so x_tables' nat OUTPUT is skipped;
  // neither table is taken for the other although both are nat.
  std::vector<TableModel> xt;
  REQUIRE(parse_save_text("*nat\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -p tcp -j RETURN\nCOMMIT\n",
                          Family::v4, xt)
              .ok());
  TraceRules rules = iptables_trace_rules(std::move(xt));
  TraceRules nft;
  REQUIRE(
      nft_rules_from_json(
          R"({"nftables": [{"table": {"family": "ip", "name": "n"}},)"
          R"({"chain": {"family": "ip", "table": "n", "name": "o", "type": "nat",)"
          R"( "hook": "output", "prio": -101, "policy": "accept"}},)"
          R"({"rule": {"family": "ip", "table": "n", "chain": "o", "expr": [)"
          R"({"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}},)"
          R"( "right": 80}}, {"counter": null}, {"redirect": {"port": 15001}}]}}]})",
          Family::v4, nft)
          .ok());
  merge_trace_rules(rules, std::move(nft));
  const TraceResult r = trace_packet(rules, Direction::out, app_packet());
  INFO(trace_text(r));
  REQUIRE(r.captured());
  CHECK(r.by == "ip n o rule 1");
  std::vector<std::string> entered;
  for (const TraceStep& s : r.path)
    if (s.kind == TraceStep::Kind::enter) entered.push_back(s.table_name + " " + s.chain);
  CHECK(entered == std::vector<std::string>{"ip n o", "nat POSTROUTING"});
  CHECK(r.path[1].text == "tcp dport 80 counter redirect to :15001");
  CHECK(r.path[2].text ==
        "nat OUTPUT not traversed: an earlier nat chain at this hook bound the connection's NAT");
  CHECK(r.path[4].text == "policy ACCEPT");  // x_tables' lines stay iptables'
}
