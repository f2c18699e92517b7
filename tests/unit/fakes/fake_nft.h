// FakeNft: nftables tables in memory behind the NftBackend seam, for tests of the nftables apply.
//
// The fake does not interpret nft's language. It keeps, per table, the JSON and text listings the
// kernel would print; run() records the transaction, drops the tables it deletes (`delete table
// inet X`) and then takes `after_commit`, a JSON listing the test sets to what the kernel holds
// after the transaction (the kernel forms under tests/golden/istio/nftables-kernel-form/, which nft
// printed). `fail_run_at` (1-based) makes that run fail without changing anything.
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
    runs.push_back(commands);
    if (fail_run_at == static_cast<int>(runs.size()))
      return Status::Fail("transaction line 3: Error: injected");
    std::istringstream in(commands);
    for (std::string line; std::getline(in, line);)
      if (line.rfind("delete table inet ", 0) == 0) tables.erase(line.substr(18));
    if (!after_commit.empty()) set_ruleset(after_commit);
    committed = true;
    return Status::Ok();
  }

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

// A file's contents (the golden listings).
inline std::string read_file(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

}  // namespace snare::testing
