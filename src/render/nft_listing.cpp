// nftables forms as nft commands (see nft_listing.h).
#include "render/nft_listing.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "ext/nft_json.h"
#include "render/diff.h"

namespace snare {
namespace {

using nlohmann::json;

// An expression: `tcp dport`, `meta mark`, `iifname`, `ct state`, or a value.
std::string expr_text(const json& e) {
  if (e.is_string()) return e.get<std::string>();
  if (e.is_number() || e.is_boolean()) return e.dump();
  if (e.is_array()) {
    std::vector<std::string> parts;
    for (const json& x : e) parts.push_back(expr_text(x));
    return fmt::format("{}", fmt::join(parts, ","));
  }
  if (e.contains("payload"))
    return fmt::format("{} {}", e["payload"].value("protocol", "?"),
                       e["payload"].value("field", "?"));
  if (e.contains("meta")) {
    const std::string key = e["meta"].value("key", "?");
    return key == "iifname" || key == "oifname" ? key : "meta " + key;
  }
  if (e.contains("ct")) return "ct " + e["ct"].value("key", "?");
  if (e.contains("prefix"))
    return fmt::format("{}/{}", expr_text(e["prefix"]["addr"]), e["prefix"]["len"].dump());
  if (e.contains("range"))
    return fmt::format("{}-{}", expr_text(e["range"][0]), expr_text(e["range"][1]));
  if (e.contains("set")) {
    std::vector<std::string> parts;
    for (const json& x : e["set"]) parts.push_back(expr_text(x));
    return fmt::format("{{ {} }}", fmt::join(parts, ", "));
  }
  return e.dump();
}

std::string statement_text(const json& s) {
  if (s.contains("match")) {
    const json& m = s["match"];
    const std::string op = m.value("op", "==");
    // Interface names in nft's spelling ("x#" quoted), so that the line is a valid command.
    const std::string left = expr_text(m["left"]);
    if ((left == "iifname" || left == "oifname") && m["right"].is_string())
      return fmt::format("{}{} {}", left, op == "==" ? "" : " " + op,
                         nft::iface_literal(m["right"].get<std::string>()));
    return fmt::format("{}{} {}", expr_text(m["left"]), op == "==" || op == "in" ? "" : " " + op,
                       expr_text(m["right"]));
  }
  if (s.contains("counter")) return "counter";
  for (const char* verdict : {"return", "accept", "drop", "continue"})
    if (s.contains(verdict)) return verdict;
  if (s.contains("jump")) return "jump " + s["jump"].value("target", "?");
  if (s.contains("goto")) return "goto " + s["goto"].value("target", "?");
  if (s.contains("redirect"))
    return "redirect to :" + expr_text(s["redirect"].value("port", json()));
  if (s.contains("tproxy"))
    return fmt::format("tproxy {} to :{}", s["tproxy"].value("family", "?"),
                       expr_text(s["tproxy"].value("port", json())));
  if (s.contains("mangle"))
    return fmt::format("{} set {}", expr_text(s["mangle"]["key"]), expr_text(s["mangle"]["value"]));
  return s.dump();
}

bool is_context(const std::string& line) {
  return line.rfind("add table ", 0) == 0 || line.rfind("add chain ", 0) == 0;
}

}  // namespace

std::string nft_statements_text(const json& expr) {
  std::vector<std::string> parts;
  for (const json& s : expr) parts.push_back(statement_text(s));
  return fmt::format("{}", fmt::join(parts, " "));
}

std::vector<std::string> nft_form_lines(const NftForm& form) {
  std::vector<std::string> out;
  for (const NftTableForm& t : form) {
    out.push_back(t.flags.empty() ? "add table inet " + t.name
                                  : fmt::format("add table inet {} {{ flags {} ; }}", t.name,
                                                fmt::join(t.flags, ",")));
    // "set extra {...}" -> "add set inet T extra {...}"
    for (const std::string& o : t.objects) {
      const size_t sp = o.find(' ');
      out.push_back(fmt::format("add {} inet {}{}", o.substr(0, sp), t.name, o.substr(sp)));
    }
    for (const NftChainForm& c : t.chains)
      out.push_back(
          c.base ? fmt::format("add chain inet {} {} {{ type {} hook {} {}priority {} ; policy {} "
                               "; }}",
                               t.name, c.name, c.type, c.hook,
                               c.device.empty() ? "" : fmt::format("device \"{}\" ", c.device),
                               c.priority, c.policy)
                 : fmt::format("add chain inet {} {}", t.name, c.name));
    for (const NftChainForm& c : t.chains)
      for (const NftRuleForm& r : c.rules)
        out.push_back(
            fmt::format("add rule inet {} {} {}", t.name, c.name, nft_statements_text(r.expr)));
  }
  return out;
}

std::string diff_nft_forms(const NftForm& have, const NftForm& want) {
  // Table by table, so that the context lines are those of tables that differ.
  std::vector<std::string> names;
  for (const NftForm* f : {&have, &want})
    for (const NftTableForm& t : *f)
      if (std::find(names.begin(), names.end(), t.name) == names.end()) names.push_back(t.name);
  auto only = [](const NftForm& f, const std::string& name) {
    NftForm out;
    for (const NftTableForm& t : f)
      if (t.name == name) out.push_back(t);
    return out;
  };
  std::string out;
  for (const std::string& name : names) {
    const std::vector<std::string> a = nft_form_lines(only(have, name));
    const std::vector<std::string> b = nft_form_lines(only(want, name));
    if (a != b)
      out += fmt::format("# inet {}: '-' in the kernel only, '+' missing from the kernel\n", name) +
             diff_lines(a, b, is_context);
  }
  return out;
}

}  // namespace snare
