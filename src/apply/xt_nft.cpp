// istio's rules written through iptables-nft (see xt_nft.h).
#include "apply/xt_nft.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace snare {
namespace {

using nlohmann::json;

bool istio_chain(const std::string& name) { return name.rfind("ISTIO_", 0) == 0; }

// The ISTIO_* chain a rule's statements jump or go to, or "".
std::string istio_target(const json& expr) {
  if (!expr.is_array()) return "";
  for (const json& stmt : expr)
    for (const char* verdict : {"jump", "goto"})
      if (stmt.is_object() && stmt.contains(verdict)) {
        const json& v = stmt[verdict];
        if (v.is_object() && v.contains("target") && v["target"].is_string() &&
            istio_chain(v["target"].get<std::string>()))
          return v["target"].get<std::string>();
      }
  return "";
}

}  // namespace

Status xt_istio_from_listing(const std::string& family, const std::string& table,
                             const std::string& text, XtIstio& out) {
  const json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.contains("nftables") || !doc["nftables"].is_array())
    return Status::Fail(fmt::format("list table {} {}: not a JSON listing", family, table));
  std::vector<std::string> chains;
  std::string jumps, drift;
  for (const json& item : doc["nftables"]) {
    if (item.contains("chain") && item["chain"].value("name", "") != "") {
      const std::string name = item["chain"]["name"];
      if (istio_chain(name)) chains.push_back(name);
    }
    if (!item.contains("rule")) continue;
    const json& r = item["rule"];
    const std::string chain = r.value("chain", "");
    const std::string target = istio_target(r.value("expr", json()));
    if (istio_chain(chain) || target.empty() || !r.contains("handle")) continue;
    // By handle: iptables-nft's own matches (xt expressions) have no nft text to name them by.
    const auto handle = r["handle"].get<long long>();
    jumps += fmt::format("delete rule {} {} {} handle {}\n", family, table, chain, handle);
    drift +=
        fmt::format("-rule {} {} {} handle {} (jump {})\n", family, table, chain, handle, target);
  }
  if (chains.empty() && jumps.empty()) return Status::Ok();
  // Jumps first, then every chain emptied before any is deleted: the chains jump to each other.
  std::string flush, del;
  for (const std::string& c : chains) {
    flush += fmt::format("flush chain {} {} {}\n", family, table, c);
    del += fmt::format("delete chain {} {} {}\n", family, table, c);
    drift += fmt::format("-chain {} {} {}\n", family, table, c);
  }
  out.removal += jumps + flush + del;
  out.drift += drift;
  out.found.push_back(fmt::format(
      "{} {} ({})", family, table,
      chains.empty() ? "jumps to ISTIO_* chains" : fmt::format("{}", fmt::join(chains, ", "))));
  return Status::Ok();
}

Status read_xt_istio(NftBackend& nft, XtIstio& out) {
  std::vector<std::string> names;
  if (Status s = nft.ip_tables(names); !s.ok()) return s;
  for (const char* family : {"ip", "ip6"})
    for (const char* table : {"raw", "mangle", "nat"}) {
      const std::string name = fmt::format("{} {}", family, table);
      if (std::find(names.begin(), names.end(), name) == names.end()) continue;
      std::string listing;
      if (Status s = nft.list_ip_table(name, listing); !s.ok()) return s;
      if (Status s = xt_istio_from_listing(family, table, listing, out); !s.ok()) return s;
    }
  if (!out.drift.empty())
    out.drift = "# iptables-nft: istio rules next to these (--reconcile or clean removes them)\n" +
                out.drift;
  return Status::Ok();
}

}  // namespace snare
