// istio's nftables tables as libnftables' JSON schema (see nft_form_json.h).
#include "render/nft_form_json.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "ext/nft_kernel_form.h"
#include "model/nft_layout.h"

namespace snare {
namespace {

using nlohmann::json;

NftChainForm chain_from_listing(const json& c) {
  NftChainForm out;
  out.name = c.value("name", "");
  if (c.contains("hook")) {
    out.base = true;
    out.type = c.value("type", "");
    out.hook = c.value("hook", "");
    out.priority = c.value("prio", 0);
    out.policy = c.value("policy", "accept");
    if (c.contains("dev"))
      out.device = c["dev"].is_string() ? c["dev"].get<std::string>() : c["dev"].dump();
  }
  return out;
}

// `set s {"type":"ipv4_addr",...}`: an object of a table other than a chain or a rule, without
// its handle and the names the line already says, and without a set's members: they are not the
// rule set's but whoever fills the set's (istio-cni's agent, for ambient-host's probe sets).
std::string object_line(const std::string& kind, json body) {
  const std::string name = body.value("name", "");
  for (const char* k : {"handle", "family", "table", "name", "elem"}) body.erase(k);
  return fmt::format("{} {} {}", kind, name, body.dump());
}

// Chains in istio's order per table (the listing has them in creation order); others after
// them, by name.
void sort_like_istio(NftTableForm& t) {
  const std::vector<std::string>& order = nft_chain_order(t.name);
  auto rank = [&](const NftChainForm& c) {
    return std::make_pair(std::find(order.begin(), order.end(), c.name) - order.begin(), c.name);
  };
  std::stable_sort(t.chains.begin(), t.chains.end(),
                   [&](const NftChainForm& a, const NftChainForm& b) { return rank(a) < rank(b); });
}

}  // namespace

Status nft_form_from_listing(const std::string& json_text, const std::vector<std::string>& tables,
                             NftForm& out) {
  out.clear();
  json listing = json::parse(json_text, nullptr, false);
  if (listing.is_discarded() || !listing.contains("nftables") || !listing["nftables"].is_array())
    return Status::Fail("libnftables' JSON listing did not parse");
  std::map<std::string, NftTableForm> found;
  auto wanted = [&](const json& o, const char* key) {
    return o.value("family", "") == "inet" &&
           std::find(tables.begin(), tables.end(), o.value(key, "")) != tables.end();
  };
  for (const json& item : listing["nftables"]) {
    if (!item.is_object() || item.size() != 1 || item.contains("metainfo")) continue;
    const std::string kind = item.begin().key();
    const json& body = item.begin().value();
    if (item.contains("table") && wanted(item["table"], "name")) {
      // Flags are not read here: libnftables 1.0.6 lists a freed string for them (the backend's
      // netlink read gives them, see nft_backend.h).
      const std::string name = item["table"]["name"];
      found[name].name = name;
    } else if (item.contains("chain") && wanted(item["chain"], "table")) {
      found[item["chain"]["table"]].chains.push_back(chain_from_listing(item["chain"]));
    } else if (item.contains("rule") && wanted(item["rule"], "table")) {
      const json& r = item["rule"];
      auto& chains = found[r["table"]].chains;
      auto c = std::find_if(chains.begin(), chains.end(),
                            [&](const NftChainForm& x) { return x.name == r.value("chain", ""); });
      if (c == chains.end()) return Status::Fail("a rule of an unlisted chain in the JSON listing");
      NftRuleForm rule{r.value("expr", json::array())};
      normalize_nft_exprs(rule.expr);
      c->rules.push_back(std::move(rule));
    } else if (kind != "table" && body.is_object() && wanted(body, "table")) {
      // A set, a map, a counter...: the table is created by its chain or rule items when the
      // listing has no table item (a per-chain listing).
      found[body["table"]].objects.push_back(object_line(kind, body));
    }
  }
  for (const std::string& name : tables) {
    auto it = found.find(name);
    if (it == found.end()) continue;
    it->second.name = name;
    sort_like_istio(it->second);
    std::sort(it->second.objects.begin(), it->second.objects.end());
    out.push_back(std::move(it->second));
  }
  return Status::Ok();
}

std::string nft_form_json(const NftForm& form) {
  json items = json::array();
  for (const NftTableForm& t : form) {
    items.push_back({{"table", {{"family", "inet"}, {"name", t.name}}}});
    // Sets and other objects, as the kernel lists them: after the table, before its chains.
    for (const std::string& o : t.objects) {
      const size_t a = o.find(' '), b = o.find(' ', a + 1);
      json body = json::parse(o.substr(b + 1), nullptr, false);
      if (!body.is_object()) continue;
      body["family"] = "inet";
      body["name"] = o.substr(a + 1, b - a - 1);
      body["table"] = t.name;
      items.push_back({{o.substr(0, a), std::move(body)}});
    }
    for (const NftChainForm& c : t.chains) {
      json chain = {{"family", "inet"}, {"table", t.name}, {"name", c.name}};
      if (c.base) {
        chain["type"] = c.type;
        chain["hook"] = c.hook;
        chain["prio"] = c.priority;
        chain["policy"] = c.policy;
      }
      items.push_back({{"chain", std::move(chain)}});
    }
    for (const NftChainForm& c : t.chains)
      for (const NftRuleForm& r : c.rules)
        items.push_back(
            {{"rule",
              {{"family", "inet"}, {"table", t.name}, {"chain", c.name}, {"expr", r.expr}}}});
  }
  return json{{"nftables", std::move(items)}}.dump() + "\n";
}

}  // namespace snare
