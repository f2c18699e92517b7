// The extensions' netlink forms against nft itself: for every nftables case of the conformance
// tables (cases.tsv's nft-*, ambient-cases.tsv's ambient-nft-*), the plan of the case's flags in
// its netlink form (ext/nft_netlink_form.h), printed as nft's --debug=netlink text
// (render/netlink_text.h), equals what nft 1.0.6 printed while applying istio's golden
// (tests/golden/istio/nftables-netlink, scripts/nft-netlink-reference.sh), rule by rule, the
// anonymous sets' elements included.
#include "ext/nft_nl.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "builder/builder.h"
#include "config/ambient_flags.h"
#include "ext/nft_netlink_form.h"
#include "fakes/config_of.h"
#include "render/netlink_text.h"

using namespace snare;

namespace {

const std::filesystem::path kIstio = SNARE_SOURCE_DIR "/tests/golden/istio";

std::string slurp(const std::filesystem::path& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// A row's shell words: single and double quotes, no expansions.
std::vector<std::string> shell_words(const std::string& line) {
  std::vector<std::string> out;
  std::string w;
  bool any = false;
  char quote = 0;
  for (char c : line) {
    if (quote) {
      quote = c == quote ? 0 : quote;
      if (quote) w += c;
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

struct Case {
  std::string name, golden;
  std::vector<std::string> flags;
};

std::vector<Case> nft_cases() {
  std::vector<Case> out;
  for (const char* table : {"cases.tsv", "ambient-cases.tsv"})
    for (const std::string& line : lines_of(slurp(kIstio / table))) {
      if (line.rfind("nft-", 0) != 0 && line.rfind("ambient-nft-", 0) != 0) continue;
      const size_t a = line.find('\t'), b = line.find('\t', a + 1);
      out.push_back(
          {line.substr(0, a), line.substr(a + 1, b - a - 1), shell_words(line.substr(b + 1))});
    }
  return out;
}

// The plan of a row's flags, as the CLI makes it (`ambient`/`ambient-host` first for istio-cni's
// rules); groups as the references were made (java 2020, ftp 2021).
Plan plan_of(std::vector<std::string> flags) {
  testing::FakeHostFacts host;
  host.groups = {{"java", 2020}, {"ftp", 2021}};
  if (flags.empty() || (flags[0] != "ambient" && flags[0] != "ambient-host"))
    return build_plan(testing::config_of(flags, host));
  const Command kind = flags[0] == "ambient" ? Command::ambient : Command::ambient_host;
  flags.erase(flags.begin());
  const EnvLookup no_env = [](const std::string&) -> std::optional<std::string> { return {}; };
  AmbientRawFlags raw;
  REQUIRE(parse_ambient_flags(kind, flags, no_env, "snare ambient", raw).ok());
  Config cfg;
  REQUIRE(make_ambient_config(kind, raw, cfg).ok());
  REQUIRE(fill_ambient_config(cfg, host).ok());
  return build_plan(cfg);
}

// One rule nft printed: its text (anonymous sets, header, expressions) and the golden's line.
struct RefRule {
  std::string text, golden_line;
};

// nft's output, rules in the kernel's final order per "TABLE CHAIN": the golden's rule lines in
// order each gave one block of the output; `insert rule ... index N` put its rule at N.
std::map<std::string, std::vector<RefRule>> reference(const Case& c, std::string& error) {
  std::string stem = c.golden;
  stem.replace(stem.find('/'), 1, "-");
  stem = stem.substr(0, stem.rfind('.'));
  const std::vector<std::string> out =
      lines_of(slurp(kIstio / "nftables-netlink" / (stem + ".netlink")));
  std::vector<std::pair<std::string, std::string>> blocks;  // "TABLE CHAIN", text
  std::string pending;
  for (size_t i = 0; i < out.size(); ++i) {
    const std::string& l = out[i];
    if (l.rfind("__set", 0) == 0 || l.rfind("\telement", 0) == 0) {
      pending += l + "\n";
    } else if (l.rfind("inet ", 0) == 0 && l.find("(null)") == std::string::npos) {
      // `inet TABLE CHAIN`, and for a rule an insert places (and the one it is placed by) nft's
      // position reference, which the final order in the form stands for: dropped.
      std::istringstream words(l);
      std::string family, table, chain;
      words >> family >> table >> chain;
      std::string text = pending + "inet " + table + " " + chain + "\n";
      for (++i; i < out.size() && !out[i].empty(); ++i) text += out[i] + "\n";
      blocks.emplace_back(table + " " + chain, text + "\n");
      pending.clear();
    }
  }
  std::map<std::string, std::vector<RefRule>> chains;
  size_t n = 0;
  for (const std::string& g : lines_of(slurp(kIstio / c.golden))) {
    const bool insert = g.rfind("insert rule inet ", 0) == 0;
    if (!insert && g.rfind("add rule inet ", 0) != 0) continue;
    if (n >= blocks.size()) return error = "fewer netlink rules than golden rules", chains;
    std::vector<RefRule>& rules = chains[blocks[n].first];
    size_t at = rules.size();
    if (insert) at = std::stoul(g.substr(g.find(" index ") + 7));
    rules.insert(rules.begin() + static_cast<long>(std::min(at, rules.size())),
                 {blocks[n++].second, g});
  }
  if (n != blocks.size()) error = "more netlink rules than golden rules";
  return chains;
}

}  // namespace

TEST_CASE("every nftables case's netlink form is what nft sends for istio's golden") {
  size_t cases = 0, rules = 0;
  for (const Case& c : nft_cases()) {
    INFO("case " << c.name);
    std::string error;
    std::map<std::string, std::vector<RefRule>> want = reference(c, error);
    REQUIRE(error.empty());
    const NlForm form = nft_netlink_form(plan_of(c.flags));
    std::map<std::string, size_t> got_counts;
    for (const NlTable& t : form)
      for (const NlChain& ch : t.chains) {
        const std::string key = t.name + " " + ch.name;
        if (!ch.rules.empty()) got_counts[key] = ch.rules.size();  // istio declares some empty
        const std::vector<RefRule>& ref = want[key];
        for (size_t i = 0; i < ch.rules.size() && i < ref.size(); ++i) {
          INFO("chain " << key << ", rule " << i + 1 << ": " << ref[i].golden_line);
          CHECK(ch.rules[i].label == ref[i].golden_line);
          CHECK(netlink_text(ch.rules[i], t.name, ch.name) == ref[i].text);
          ++rules;
        }
      }
    std::map<std::string, size_t> want_counts;
    for (const auto& [key, ref] : want)
      if (!ref.empty()) want_counts[key] = ref.size();
    CHECK(got_counts == want_counts);
    ++cases;
  }
  CHECK(cases == 42);
  INFO(rules << " rules");
  CHECK(rules > 500);
}

TEST_CASE("netlink form: a probe set's key and userdata are nft's") {
  // What `nft --debug=mnl` showed for istio-cni's declaration (type ipv4_addr, its comment):
  // key byte order big endian (udata 0), the comment with its NUL (udata 7).
  const NlSet s = nft_netlink_set({"istio-inpod-probes-v4", Family::v4, "ab", true});
  CHECK(s.flags == 0);
  CHECK(s.key_type == 7);
  CHECK(s.key_len == 4);
  CHECK(s.userdata == NlBytes{0, 4, 2, 0, 0, 0, 7, 3, 'a', 'b', 0});
  CHECK(nft_netlink_set({"x", Family::v6, "", true}).key_type == 8);
}

TEST_CASE("netlink form: an anonymous port set's userdata is `typeof tcp dport`") {
  // What `nft --debug=mnl` showed for `tcp dport != { 53, 15002 }`.
  const NlExpr e = nl::port_lookup("tcp", true, {"53", "15002"});
  const NlLookup& l = std::get<NlLookup>(e);
  REQUIRE(l.anonymous);
  CHECK(l.flags == 1);
  CHECK(l.anonymous->flags == 3);
  CHECK(l.anonymous->key_type == 13);
  CHECK(l.anonymous->size == 2);
  CHECK(l.anonymous->userdata == NlBytes{0, 4,  2, 0, 0, 0, 3, 20, 0, 4, 7, 0, 0, 0,
                                         1, 12, 0, 4, 8, 0, 0, 0,  1, 4, 2, 0, 0, 0});
}

TEST_CASE("netlink form: a port range set is nft's interval set") {
  // `tcp dport != { 53, 1000-2000 }` as nft printed it: `__set%d t 7 size 5`.
  const NlExpr e = nl::port_lookup("tcp", true, {"53", "1000:2000"});
  // Its userdata as `nft --debug=mnl` showed it: nft's "merge elements" flag (udata 2) too.
  CHECK(std::get<NlLookup>(e).anonymous->userdata == NlBytes{0, 4,  2, 0, 0, 0, 2, 4, 1, 0,  0, 0,
                                                             3, 20, 0, 4, 7, 0, 0, 0, 1, 12, 0, 4,
                                                             8, 0,  0, 0, 1, 4, 2, 0, 0, 0});
  CHECK(netlink_text(*std::get<NlLookup>(e).anonymous, "t") ==
        "__set%d t 7 size 5\n__set%d t 0\n\telement 00000000  : 1 [end]\telement 00003500  : 0 "
        "[end]\telement 00003600  : 1 [end]\telement 0000e803  : 0 [end]\telement 0000d107  : 1 "
        "[end]\n");
}

TEST_CASE("netlink form: prefixes off a byte boundary are masked, as nft sends them") {
  std::vector<NlExpr> out;
  nl::addr_match(NftContext{}, false, false, "10.16.0.0/12", out);
  std::string text;
  for (const NlExpr& e : out) text += netlink_text(e) + "\n";
  CHECK(text ==
        "[ meta load nfproto => reg 1 ]\n[ cmp eq reg 1 0x00000002 ]\n"
        "[ payload load 4b @ network header + 16 => reg 1 ]\n"
        "[ bitwise reg 1 = ( reg 1 & 0x0000f0ff ) ^ 0x00000000 ]\n[ cmp eq reg 1 0x0000100a ]\n");
  out.clear();
  nl::addr_match(NftContext{}, false, false, "2001:db8::/33", out);
  CHECK(netlink_text(out[3]) ==
        "[ bitwise reg 1 = ( reg 1 & 0xffffffff 0x00000080 0x00000000 0x00000000 ) ^ 0x00000000 "
        "0x00000000 0x00000000 0x00000000 ]");
}
