// FakeNft: nftables tables in memory behind the NftBackend seam, for tests of the nftables apply.
//
// Netlink side (what the apply, cleanup and verify use): `netlink` holds the inet tables as
// netlink forms; write_netlink() records the batch and carries its operations out on them the
// way nf_tables does (a table added merges with an existing one, a deleted chain must be empty,
// a failed batch changes nothing); `fail_batch_at` (1-based) makes a batch fail, and
// `after_commit_form`, when set, is what the kernel holds after the next commit instead (another
// writer).
//
// Text side (snare ambient-host probe, trace): the fake does not interpret nft's language. It
// keeps, per table, the JSON and text listings the kernel would print; run() records the
// transaction, drops the tables it deletes (`delete table inet X`) and then takes `after_commit`, a
// JSON listing the test sets to what the kernel holds after the transaction (the kernel forms under
// tests/golden/istio/nftables-kernel-form/, which nft printed). `fail_run_at` (1-based) makes that
// run fail without changing anything. `open_result` failing is an image without libnftables:
// listings and transactions fail with it, table names (netlink, no libnftables) do not.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
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
  std::map<std::string, NlTable> netlink;  // inet tables by name
  std::vector<NlBatch> batches;            // every batch, failed ones included
  int fail_batch_at = 0;
  Status read_result = Status::Ok();  // a failing dump
  std::optional<NlForm> after_commit_form;

  std::string name() const override { return "fake-nft"; }

  NlForm read_all() const {
    NlForm out;
    for (const auto& [name, table] : netlink) out.push_back(table);
    return out;
  }
  // Tables as the kernel would hold them.
  void seed(const NlForm& form) {
    for (const NlTable& t : form) netlink[t.name] = t;
  }

  Status inet_tables(std::vector<std::string>& names,
                     std::map<std::string, uint32_t>& flags) override {
    names.clear();
    flags.clear();
    for (const auto& [name, listing] : tables) {
      names.push_back(name);
      flags[name] = listing.flags;
    }
    for (const auto& [name, table] : netlink)
      if (!tables.count(name)) {
        names.push_back(name);
        flags[name] = table.flags;
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

  Status read_netlink(uint32_t, const std::vector<std::string>& names, NlForm& out) override {
    if (!read_result.ok()) return read_result;
    for (const std::string& n : names)
      if (auto it = netlink.find(n); it != netlink.end()) out.push_back(it->second);
    return Status::Ok();
  }
  Status write_netlink(const NlBatch& batch, bool& committed) override {
    committed = false;
    batches.push_back(batch);
    if (fail_batch_at == static_cast<int>(batches.size()))
      return Status::Fail("nftables: injected: add rule inet istio-proxy-nat istio-output");
    std::map<std::string, NlTable> next = netlink;
    std::vector<std::string> ip_drops;
    for (const NlOp& op : batch)
      if (Status s = carry_out(op, next, ip_drops); !s.ok()) return s;
    netlink = std::move(next);
    for (const std::string& t : ip_drops) ip_listings.erase(t);
    if (after_commit_form) {  // once: a rollback's own batch is carried out
      netlink.clear();
      seed(*after_commit_form);
      after_commit_form.reset();
    }
    committed = true;
    return Status::Ok();
  }
  Status open() override { return open_result; }

  // `ip_drops`: the iptables-nft listings the batch drops when it commits.
  static Status carry_out(const NlOp& op, std::map<std::string, NlTable>& tables,
                          std::vector<std::string>& ip_drops);

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

// An empty inet table, chain, or an ipv4_addr set (key type 7, 4 bytes) of that name.
inline NlTable table_named(const std::string& name) {
  NlTable t;
  t.name = name;
  t.family = 1;  // NFPROTO_INET
  return t;
}
inline NlChain chain_named(const std::string& name) {
  NlChain c;
  c.name = name;
  return c;
}
inline NlSet ipv4_set(const std::string& name) {
  NlSet s;
  s.name = name;
  s.key_type = 7;
  s.key_len = 4;
  return s;
}

// One operation of a batch, as nf_tables carries it out. Operations on iptables-nft's ip/ip6
// tables: a deleted chain drops that table's listing (the tests check the batch itself).
inline Status FakeNft::carry_out(const NlOp& op, std::map<std::string, NlTable>& tables,
                                 std::vector<std::string>& ip_drops) {
  if (const auto* a = std::get_if<NlAddTable>(&op)) {
    NlTable& t = tables[a->table.name];
    t.name = a->table.name;
    t.family = a->table.family;
    for (const NlSet& set : a->table.sets)
      if (std::none_of(t.sets.begin(), t.sets.end(),
                       [&](const NlSet& x) { return x.name == set.name; }))
        t.sets.push_back(set);
    for (const NlChain& c : a->table.chains) {
      auto it = std::find_if(t.chains.begin(), t.chains.end(),
                             [&](const NlChain& x) { return x.name == c.name; });
      if (it == t.chains.end()) {
        NlChain empty = c;
        empty.rules.clear();
        t.chains.push_back(empty);
        it = t.chains.end() - 1;
      }
      it->rules.insert(it->rules.end(), c.rules.begin(), c.rules.end());
    }
  } else if (const auto* d = std::get_if<NlDeleteTable>(&op)) {
    if (d->family == 1) tables.erase(d->table);
  } else if (const auto* f = std::get_if<NlFlushTable>(&op)) {
    if (auto it = tables.find(f->table); it != tables.end())
      for (NlChain& c : it->second.chains) c.rules.clear();
  } else if (const auto* dc = std::get_if<NlDeleteChain>(&op)) {
    if (dc->family != 1) {
      ip_drops.push_back(fmt::format("{} {}", dc->family == 2 ? "ip" : "ip6", dc->table));
      return Status::Ok();
    }
    auto it = tables.find(dc->table);
    if (it == tables.end()) return Status::Fail("nftables: No such file or directory");
    auto& chains = it->second.chains;
    auto c = std::find_if(chains.begin(), chains.end(),
                          [&](const NlChain& x) { return x.name == dc->chain; });
    if (c == chains.end()) return Status::Fail("nftables: No such file or directory");
    if (!c->rules.empty()) return Status::Fail("nftables: Device or resource busy");
    chains.erase(c);
  } else if (const auto* o = std::get_if<NlDeleteObject>(&op)) {
    if (auto it = tables.find(o->table); it != tables.end()) {
      auto& sets = it->second.sets;
      std::erase_if(sets, [&](const NlSet& x) { return o->kind == "set" && x.name == o->name; });
      std::erase(it->second.objects, o->kind + " " + o->name);
    }
  }
  return Status::Ok();
}

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
