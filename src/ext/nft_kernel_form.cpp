// The kernel form of a plan and the normal form (see nft_kernel_form.h).
#include "ext/nft_kernel_form.h"

#include <algorithm>

#include "ext/forms.h"
#include "ext/header.h"
#include "model/nft_layout.h"

namespace snare {
namespace {

using nlohmann::json;

// The protocol a match reads a header of (`tcp dport` -> "tcp"), or "".
std::string payload_protocol(const json& stmt) {
  const json* m = stmt.contains("match") ? &stmt["match"] : nullptr;
  if (!m || !m->contains("left") || !(*m)["left"].is_object()) return "";
  const json& left = (*m)["left"];
  if (!left.contains("payload") || !left["payload"].contains("protocol")) return "";
  return left["payload"]["protocol"].get<std::string>();
}

bool is_l4proto(const json& stmt) {
  return stmt.contains("match") &&
         stmt["match"].value("left", json()) == json{{"meta", {{"key", "l4proto"}}}};
}

// `meta l4proto P` with ==: the protocol, or "".
std::string l4proto_of(const json& stmt) {
  if (!stmt.contains("match")) return "";
  const json& m = stmt["match"];
  if (m.value("op", "") != "==" || m.value("left", json()) != json{{"meta", {{"key", "l4proto"}}}})
    return "";
  return m["right"].is_string() ? m["right"].get<std::string>() : "";
}

}  // namespace

void normalize_nft_exprs(json& expr) {
  if (!expr.is_array()) return;
  // nft names protocols from /etc/protocols; a root without that file (the image) lists numbers.
  for (json& stmt : expr)
    if (is_l4proto(stmt) && stmt["match"]["right"].is_number_unsigned())
      stmt["match"]["right"] = proto_name(stmt["match"]["right"].get<unsigned>());
  json out = json::array();
  for (size_t i = 0; i < expr.size(); ++i) {
    json stmt = expr[i];
    // nft lists `meta l4proto P` only where no later match implies it.
    if (const std::string p = l4proto_of(stmt); !p.empty()) {
      bool implied = false;
      for (size_t j = i + 1; j < expr.size() && !implied; ++j)
        implied = payload_protocol(expr[j]) == p;
      if (implied) continue;
    }
    if (stmt.contains("counter")) stmt = {{"counter", {{"packets", 0}, {"bytes", 0}}}};
    // Set elements and ct states in one order (the kernel keeps them sorted).
    if (stmt.contains("match") && stmt["match"].contains("right")) {
      json& right = stmt["match"]["right"];
      if (right.is_object() && right.contains("set") && right["set"].is_array())
        std::sort(right["set"].begin(), right["set"].end());
      if (right.is_array()) std::sort(right.begin(), right.end());
      if (right.is_array() && right.size() == 1) right = json(right[0]);
    }
    out.push_back(std::move(stmt));
  }
  expr = std::move(out);
}

std::string nft_set_object(const IpSet& set) {
  const json body = {{"type", set.family == Family::v4 ? "ipv4_addr" : "ipv6_addr"},
                     {"comment", set.comment}};
  return "set " + set.name + " " + body.dump();
}

std::string nft_set_declaration(const std::string& table, const IpSet& set) {
  return "add set inet " + table + " " + set.name + " { type " +
         (set.family == Family::v4 ? "ipv4_addr" : "ipv6_addr") + " ; comment " +
         json(set.comment).dump() + " ; }";
}

NftForm nft_expected_form(const Plan& plan) {
  NftForm out;
  for (const NftTable& t : nft_layout(plan, entered_chain)) {
    NftTableForm table;
    table.name = t.name;
    for (const NftChain& c : t.chains) {
      NftChainForm chain;
      chain.name = c.name;
      if (c.hook) {
        chain.base = true;
        chain.type = c.hook->type;
        chain.hook = c.hook->hook;
        chain.priority = c.hook->priority;
        chain.policy = "accept";
      }
      for (const Rule* r : c.rules) {
        NftRuleForm rule;
        nft_exprs(*r, rule.expr);
        normalize_nft_exprs(rule.expr);
        chain.rules.push_back(std::move(rule));
      }
      table.chains.push_back(std::move(chain));
    }
    if (t.table == Table::nat)
      for (const IpSet& set : plan.sets)
        if (set.used) table.objects.push_back(nft_set_object(set));
    std::sort(table.objects.begin(), table.objects.end());
    out.push_back(std::move(table));
  }
  return out;
}

}  // namespace snare
