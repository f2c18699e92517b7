// istio's rules written through iptables-nft (see xt_nft.h).
#include "apply/xt_nft.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <linux/netfilter.h>

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
  std::string drift;
  const uint32_t fam = family == "ip6" ? NFPROTO_IPV6 : NFPROTO_IPV4;
  NlBatch jumps;
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
    jumps.push_back(NlDeleteRule{fam, table, chain, static_cast<uint64_t>(handle)});
    drift +=
        fmt::format("-rule {} {} {} handle {} (jump {})\n", family, table, chain, handle, target);
  }
  if (chains.empty() && jumps.empty()) return Status::Ok();
  // Jumps first, then every chain emptied before any is deleted: the chains jump to each other.
  out.removal.insert(out.removal.end(), jumps.begin(), jumps.end());
  for (const std::string& c : chains) out.removal.push_back(NlFlushChain{fam, table, c});
  for (const std::string& c : chains) {
    out.removal.push_back(NlDeleteChain{fam, table, c});
    drift += fmt::format("-chain {} {} {}\n", family, table, c);
  }
  out.drift += drift;
  out.found.push_back(fmt::format(
      "{} {} ({})", family, table,
      chains.empty() ? "jumps to ISTIO_* chains" : fmt::format("{}", fmt::join(chains, ", "))));
  return Status::Ok();
}

namespace {

struct IpTable {
  const char* family;
  const char* table;
};

// The namespace's ip/ip6 raw, mangle and nat tables: where iptables-nft puts istio's rules. Table
// names come over netlink, without libnftables.
Status istio_ip_tables(NftBackend& nft, std::vector<IpTable>& out) {
  std::vector<std::string> names;
  if (Status s = nft.ip_tables(names); !s.ok()) return s;
  for (const char* family : {"ip", "ip6"})
    for (const char* table : {"raw", "mangle", "nat"})
      if (std::find(names.begin(), names.end(), fmt::format("{} {}", family, table)) != names.end())
        out.push_back({family, table});
  return Status::Ok();
}

Status read_listings(NftBackend& nft, const std::vector<IpTable>& tables, XtIstio& out) {
  for (const IpTable& t : tables) {
    std::string listing;
    if (Status s = nft.list_ip_table(fmt::format("{} {}", t.family, t.table), listing); !s.ok())
      return s;
    if (Status s = xt_istio_from_listing(t.family, t.table, listing, out); !s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace

Status read_xt_istio(NftBackend& nft, XtIstio& out) {
  std::vector<IpTable> tables;
  if (Status s = istio_ip_tables(nft, tables); !s.ok()) return s;
  return read_listings(nft, tables, out);
}

Status xt_istio_drift(NftBackend& nft, std::string& diff, std::string& not_checked) {
  std::vector<IpTable> tables;
  if (Status s = istio_ip_tables(nft, tables); !s.ok()) return s;
  if (tables.empty()) return Status::Ok();
  // libnftables loaded on its own first: failing to load it is an image without it (no trouble,
  // iptables mode needs none of its own); failing after it is trouble like any unreadable table.
  if (Status s = nft.open(); !s.ok()) {
    not_checked = s.error;
    return Status::Ok();
  }
  XtIstio xt;
  if (Status s = read_listings(nft, tables, xt); !s.ok()) return s;
  if (!xt.empty())
    diff +=
        "# iptables-nft: istio chains in nftables' ip/ip6 tables, a second capture rule set next "
        "to the legacy one; `snare clean` with these flags removes them (and the legacy rules), "
        "or run with --native-nftables --reconcile to move istio's rules to nftables\n" +
        xt.drift;
  return Status::Ok();
}

}  // namespace snare
