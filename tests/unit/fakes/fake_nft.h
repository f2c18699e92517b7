// FakeNft: nftables tables in memory behind the NftBackend seam, for tests of the nftables apply.
//
// The fake does not interpret nft's language. It keeps, per table, the JSON and text listings the
// kernel would print; run() records the transaction, drops the tables it deletes (`delete table
// inet X`) and then takes `after_commit`, a JSON listing the test sets to what the kernel holds
// after the transaction (the kernel forms under tests/golden/istio/nftables-kernel-form/, which nft
// printed). `fail_run_at` (1-based) makes that run fail without changing anything. `open_result`
// failing is an image without libnftables: listings and transactions fail with it, table names
// (netlink, no libnftables) do not.
#pragma once

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "kernel/nft_backend.h"

namespace snare::testing {

class FakeNft : public NftBackend {
 public:
  struct Listing {
    std::string json, text;
    uint32_t flags = 0;  // NFT_TABLE_F_*: from a table item's "flags": "dormant"
  };
  std::map<std::string, Listing> tables;
  std::vector<std::string> runs;  // every transaction, failed ones included
  int fail_run_at = 0;
  std::string after_commit;  // a whole-ruleset JSON listing; empty: only the deletions
  // iptables-nft's tables ("ip nat" -> its JSON listing); a committed `delete chain ip nat ...`
  // drops the table's listing (the test then checks the transaction's commands).
  std::map<std::string, std::string> ip_listings;
  Status open_result = Status::Ok();

  std::string name() const override { return "fake-nft"; }

  Status inet_tables(std::vector<std::string>& names,
                     std::map<std::string, uint32_t>& flags) override {
    names.clear();
    flags.clear();
    for (const auto& [name, listing] : tables) {
      names.push_back(name);
      flags[name] = listing.flags;
    }
    return Status::Ok();
  }

  Status list_table(const std::string& table, bool json, std::string& out) override {
    if (!open_result.ok()) return open_result;
    auto it = tables.find(table);
    if (it == tables.end()) return Status::Fail("list table inet " + table + ": No such file");
    out = json ? it->second.json : it->second.text;
    return Status::Ok();
  }

  Status list_chain(const std::string& table, const std::string& chain, std::string& out) override {
    auto it = tables.find(table);
    nlohmann::json doc = {{"nftables", nlohmann::json::array()}};
    const nlohmann::json all = it == tables.end() ? nlohmann::json{{"nftables", {}}}
                                                  : nlohmann::json::parse(it->second.json);
    for (const auto& item : all["nftables"])
      for (const char* k : {"chain", "rule"})
        if (item.contains(k) &&
            item[k].value(k == std::string("chain") ? "name" : "chain", "") == chain)
          doc["nftables"].push_back(item);
    if (doc["nftables"].empty()) return Status::Fail("Error: No such file or directory");
    out = doc.dump();
    return Status::Ok();
  }

  Status run(const std::string& commands, bool& committed) override {
    committed = false;
    if (!open_result.ok()) return open_result;
    runs.push_back(commands);
    if (fail_run_at == static_cast<int>(runs.size()))
      return Status::Fail("transaction line 3: Error: injected");
    std::istringstream in(commands);
    for (std::string line; std::getline(in, line);)
      if (line.rfind("delete table inet ", 0) == 0)
        tables.erase(line.substr(18));
      else if (line.rfind("delete chain ", 0) == 0)
        ip_listings.erase(line.substr(13, line.find(' ', line.find(' ', 13) + 1) - 13));
    if (!after_commit.empty()) set_ruleset(after_commit);
    committed = true;
    return Status::Ok();
  }

  Status ip_tables(std::vector<std::string>& names) override {
    names.clear();
    for (const auto& [name, listing] : ip_listings) names.push_back(name);
    return Status::Ok();
  }

  Status list_ip_table(const std::string& table, std::string& json) override {
    if (!open_result.ok()) return open_result;
    auto it = ip_listings.find(table);
    if (it == ip_listings.end()) return Status::Fail("list table " + table + ": No such file");
    json = it->second;
    return Status::Ok();
  }

  // The inet tables' JSON listings as one `list ruleset` (their items, one metainfo).
  Status list_ruleset(std::string& out) override {
    if (!open_result.ok()) return open_result;
    nlohmann::json doc = {{"nftables", nlohmann::json::array()}};
    for (const auto& [name, listing] : tables)
      for (const auto& item : nlohmann::json::parse(listing.json)["nftables"])
        if (!item.contains("metainfo")) doc["nftables"].push_back(item);
    out = doc.dump();
    return Status::Ok();
  }

  Status read_netlink(uint32_t, const std::vector<std::string>&, NlForm&) override {
    return Status::Fail("fake: read_netlink not built yet");
  }
  Status write_netlink(const NlBatch&, bool& committed) override {
    committed = false;
    return Status::Fail("fake: write_netlink not built yet");
  }
  Status open() override { return open_result; }

  // Splits a whole-ruleset listing into per-table listings (each its own JSON document, as
  // `list table` prints it; the text listing is a stand-in naming the table).
  void set_ruleset(const std::string& ruleset) {
    auto all = nlohmann::json::parse(ruleset);
    std::map<std::string, nlohmann::json> docs;
    std::map<std::string, uint32_t> flags;
    for (const auto& item : all["nftables"]) {
      std::string table;
      if (item.contains("table")) {
        table = item["table"]["name"];
        if (item["table"].value("flags", "") == "dormant") flags[table] = 1;
      }
      // Chains, rules, sets, counters...: every other object names its table.
      for (const auto& [kind, body] : item.items())
        if (kind != "table" && body.is_object() && body.contains("table")) table = body["table"];
      if (table.empty()) continue;
      docs[table]["nftables"].push_back(item);
    }
    for (auto& [name, doc] : docs)
      tables[name] = {doc.dump(), "table inet " + name + " { # as listed before }\n", flags[name]};
  }
};

// iptables-nft's nat table with istio's jump (handle 9) and chain and a foreign rule (handle 7), as
// `nft -j list table ip nat` shows it; and the transaction that removes istio's part of it.
inline const std::string kXtIstioNat =
    R"({"nftables": [{"table": {"family": "ip", "name": "nat", "handle": 2}},
    {"chain": {"family": "ip", "table": "nat", "name": "OUTPUT", "handle": 1, "type": "nat",
               "hook": "output", "prio": -100, "policy": "accept"}},
    {"chain": {"family": "ip", "table": "nat", "name": "ISTIO_OUTPUT", "handle": 2}},
    {"rule": {"family": "ip", "table": "nat", "chain": "OUTPUT", "handle": 7,
              "expr": [{"xt": {"type": "match", "name": "comment"}}, {"accept": null}]}},
    {"rule": {"family": "ip", "table": "nat", "chain": "OUTPUT", "handle": 9,
              "expr": [{"jump": {"target": "ISTIO_OUTPUT"}}]}}]})";
inline const std::string kXtIstioNatRemoval =
    "delete rule ip nat OUTPUT handle 9\nflush chain ip nat ISTIO_OUTPUT\n"
    "delete chain ip nat ISTIO_OUTPUT\n";

// A file's contents (the golden listings).
inline std::string read_file(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

}  // namespace snare::testing
