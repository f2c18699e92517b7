// An nftables JSON listing as the walk's tables and entries (see nft_readback.h).
#include "trace/nft_readback.h"

#include <fmt/format.h>

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <utility>

#include "ext/forms.h"
#include "ext/nft_json.h"
#include "render/nft_listing.h"

namespace snare {
namespace {

// Nesting deeper than `max` outside strings: nlohmann's parser and printer recurse on it.
bool too_deep(std::string_view text, size_t max) {
  size_t depth = 0;
  bool in_string = false, escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    if (c == '[' || c == '{') {
      if (++depth > max) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

// A message for one line: no control characters, bounded (a parse error quotes the input).
std::string one_line(std::string s) {
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  if (s.size() <= 160) return s;
  // Cut before a UTF-8 continuation byte, never inside a character: the text goes into JSON.
  size_t cut = 157;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xc0) == 0x80) --cut;
  return s.substr(0, cut) + "...";
}

// `item[key]` as a string of at most `max` bytes (a name), or nullopt.
std::optional<std::string> name_of(const Json& item, const char* key, size_t max) {
  const Json* v = nft::member(item, key);
  if (!v || !v->is_string()) return std::nullopt;
  const std::string& s = v->get_ref<const std::string&>();
  if (s.empty() || s.size() > max) return std::nullopt;
  return s;
}

std::optional<Hook> hook_of(const std::string& name) {
  if (name == "prerouting") return Hook::prerouting;
  if (name == "input") return Hook::input;
  if (name == "output") return Hook::output;
  if (name == "postrouting") return Hook::postrouting;
  return std::nullopt;
}

// A base chain's priority: a number, or one of nft's names for the ip families' standard ones.
std::optional<int> priority_of(const Json& v) {
  if (v.is_number_integer()) {
    const int64_t n = v.get<int64_t>();
    if (n < INT32_MIN || n > INT32_MAX) return std::nullopt;
    return static_cast<int>(n);
  }
  if (!v.is_string()) return std::nullopt;
  static const std::pair<const char*, int> kNamed[] = {{"raw", -300},    {"mangle", -150},
                                                       {"dstnat", -100}, {"filter", 0},
                                                       {"security", 50}, {"srcnat", 100}};
  for (const auto& [name, prio] : kNamed)
    if (v.get_ref<const std::string&>() == name) return prio;
  return std::nullopt;
}

// The table model a chain type evaluates in (nft_readback.h): conntrack runs at -200.
std::optional<Table> kind_of(const std::string& type, int priority) {
  if (type == "nat") return Table::nat;
  if (type == "filter" || type == "route") return priority < -200 ? Table::raw : Table::mangle;
  return std::nullopt;
}

class JsonReader {
 public:
  JsonReader(Family family, const NftJsonLimits& limits, TraceRules& out)
      : family_(family), limits_(limits), out_(out) {}

  Status item(size_t index, const Json& item) {
    if (!item.is_object() || item.size() != 1)
      return Status::Fail(fmt::format("item {}: not an object of one kind", index + 1));
    // Why the iterator by name: `*item.items().begin()` is a proxy that dies with the statement.
    const auto it = item.begin();
    const std::string& kind = it.key();
    const Json& body = it.value();
    if (!body.is_object())
      return Status::Fail(fmt::format("item {} ({}): not an object", index + 1, kind));
    Status s = Status::Ok();
    if (kind == "table") s = table(body);
    if (kind == "chain") s = chain(body);
    if (kind == "rule") s = rule(body);
    // Why anything else passes: sets, maps, counters and the metainfo are no part of a walk.
    if (!s.ok()) return Status::Fail(fmt::format("item {} ({}): {}", index + 1, kind, s.error));
    return Status::Ok();
  }

 private:
  struct TableAt {
    size_t index;       // in out_.tables; SIZE_MAX: a table of another family, left out
    std::string key;    // "inet istio-proxy-nat"
    std::string label;  // the path's table: an inet table's name, else "ip nat"
  };

  // "inet istio-proxy-nat": a table's name in messages; its key among the tables read.
  static Status table_key(const Json& body, const NftJsonLimits& l, std::string& key,
                          const char* table_key = "name") {
    const auto family = name_of(body, "family", 16);
    const auto name = name_of(body, table_key, l.max_name);
    if (!family || !name)
      return Status::Fail(fmt::format("no \"family\" and \"{}\" strings of at most {} bytes",
                                      table_key, l.max_name));
    key = *family + " " + one_line(*name);
    return Status::Ok();
  }

  bool kept(const std::string& family) const {
    return family == "inet" || family == (family_ == Family::v4 ? "ip" : "ip6");
  }

  Status table(const Json& body) {
    std::string key;
    if (Status s = table_key(body, limits_, key); !s.ok()) return s;
    if (tables_.count(key)) return Status::Fail(fmt::format("table {} listed twice", key));
    const std::string family = key.substr(0, key.find(' '));
    const std::string name = key.substr(key.find(' ') + 1);
    TableAt at{SIZE_MAX, key, family == "inet" ? name : key};
    if (kept(family)) {
      at.index = out_.tables.size();
      TableModel t;
      t.family = family_;
      t.present = true;
      out_.tables.push_back(std::move(t));
    }
    tables_.emplace(key, std::move(at));
    return Status::Ok();
  }

  // The table an item names, listed before it.
  Status find_table(const Json& body, const TableAt*& at, std::string& key) {
    if (Status s = table_key(body, limits_, key, "table"); !s.ok()) return s;
    const auto it = tables_.find(key);
    if (it == tables_.end())
      return Status::Fail(fmt::format("table {} was not listed before it", key));
    at = &it->second;
    return Status::Ok();
  }

  Status chain(const Json& body);
  Status base_chain(const Json& body, const TableAt& at, Chain& chain, const std::string& where);
  Status rule(const Json& body);

  Family family_;
  const NftJsonLimits& limits_;
  TraceRules& out_;
  std::map<std::string, TableAt> tables_;
  size_t chains_ = 0, rules_ = 0;
};

Status JsonReader::chain(const Json& body) {
  const TableAt* at = nullptr;
  std::string key;
  if (Status s = find_table(body, at, key); !s.ok()) return s;
  const auto name = name_of(body, "name", limits_.max_name);
  if (!name) return Status::Fail(fmt::format("table {}: a chain without a name", key));
  const std::string where = fmt::format("table {} chain {}", key, one_line(*name));
  if (++chains_ > limits_.max_chains)
    return Status::Fail(fmt::format("{}: more than {} chains", where, limits_.max_chains));
  if (at->index == SIZE_MAX) return Status::Ok();
  TableModel& t = out_.tables[at->index];
  if (t.find(*name)) return Status::Fail(fmt::format("{}: listed twice", where));
  Chain chain{*name, false, "", {}};
  if (nft::member(body, "hook"))
    if (Status s = base_chain(body, *at, chain, where); !s.ok()) return s;
  t.chains.push_back(std::move(chain));
  return Status::Ok();
}

// A base chain's hook, type, priority and policy: its entry, when the hook is on a local
// packet's way.
Status JsonReader::base_chain(const Json& body, const TableAt& at, Chain& chain,
                              const std::string& where) {
  const auto hook = name_of(body, "hook", 32), type = name_of(body, "type", 32);
  const Json* prio = nft::member(body, "prio");
  const std::optional<int> priority = prio ? priority_of(*prio) : std::nullopt;
  if (!hook || !type || !priority)
    return Status::Fail(
        fmt::format("{}: a base chain needs \"hook\", \"type\" and \"prio\"", where));
  const std::optional<Table> kind = kind_of(*type, *priority);
  if (!kind)
    return Status::Fail(
        fmt::format("{}: type '{}' is not nat, filter or route", where, one_line(*type)));
  const auto policy = name_of(body, "policy", 16);
  if (nft::member(body, "policy") && (!policy || (*policy != "accept" && *policy != "drop")))
    return Status::Fail(fmt::format("{}: policy is not \"accept\" or \"drop\"", where));
  chain.builtin = true;
  chain.policy = policy == "drop" ? "DROP" : "ACCEPT";
  const std::optional<Hook> h = hook_of(*hook);
  if (!h) return Status::Ok();  // forward, ingress, egress: not on a local packet's way
  out_.entries.push_back(TraceEntry{*h, *kind, *priority, at.label, chain.name,
                                    fmt::format("{} {} (type {} hook {} priority {})", at.key,
                                                one_line(chain.name), *type, *hook, *priority),
                                    static_cast<int>(at.index)});
  return Status::Ok();
}

Status JsonReader::rule(const Json& body) {
  const TableAt* at = nullptr;
  std::string key;
  if (Status s = find_table(body, at, key); !s.ok()) return s;
  const auto name = name_of(body, "chain", limits_.max_name);
  if (!name) return Status::Fail(fmt::format("table {}: a rule without its chain", key));
  std::string where = fmt::format("table {} chain {}", key, one_line(*name));
  if (++rules_ > limits_.max_rules)
    return Status::Fail(fmt::format("{}: more than {} rules", where, limits_.max_rules));
  Chain* c = at->index == SIZE_MAX ? nullptr : out_.tables[at->index].find(*name);
  if (at->index != SIZE_MAX && !c)
    return Status::Fail(fmt::format("{}: the chain was not listed before its rule", where));
  const Json* expr = nft::member(body, "expr");
  if (c) where += fmt::format(" rule {}", c->entries.size() + 1);
  if (!expr || !expr->is_array())
    return Status::Fail(fmt::format("{}: no \"expr\" list of statements", where));
  if (expr->size() > limits_.max_statements)
    return Status::Fail(fmt::format("{}: more than {} statements", where, limits_.max_statements));
  if (!c) return Status::Ok();
  DecodedRule d = rule_from_nft(family_, *expr);
  Entry e;
  // Why the listing's own text only for a rule read whole: its printer trusts the shapes the
  // extensions checked; anything else is shown as its JSON.
  e.text = d.unsupported.empty()
               ? nft_statements_text(*expr)
               : one_line(expr->dump(-1, ' ', false, Json::error_handler_t::replace));
  d.rule.chain = c->name;
  e.rule = std::make_shared<const Rule>(std::move(d.rule));
  e.unsupported = std::move(d.unsupported);
  c->entries.push_back(std::move(e));
  return Status::Ok();
}

}  // namespace

bool is_nft_json(std::string_view text) {
  const size_t first = text.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && text[first] == '{' &&
         text.find("\"nftables\"") != std::string_view::npos;
}

Status nft_rules_from_json(std::string_view text, Family family, TraceRules& out,
                           const NftJsonLimits& limits) {
  out = TraceRules{};
  out.nft = out.native_names = true;
  if (text.size() > limits.max_bytes)
    return Status::Fail(fmt::format("more than {} bytes", limits.max_bytes));
  if (too_deep(text, limits.max_depth))
    return Status::Fail(fmt::format("nested deeper than {} levels", limits.max_depth));
  Json doc;
  try {
    doc = Json::parse(text);
  } catch (const Json::exception& e) {
    std::string what = e.what();
    if (what.rfind("[json.exception", 0) == 0 && what.find("] ") != std::string::npos)
      what = what.substr(what.find("] ") + 2);
    return Status::Fail("not JSON: " + one_line(what));
  }
  const Json* items = nft::member(doc, "nftables");
  if (!items || !items->is_array())
    return Status::Fail("not an nft listing: no \"nftables\" list at the top");
  if (items->size() > limits.max_items)
    return Status::Fail(fmt::format("more than {} items", limits.max_items));
  JsonReader reader(family, limits, out);
  for (size_t i = 0; i < items->size(); ++i)
    if (Status s = reader.item(i, (*items)[i]); !s.ok()) return s;
  return Status::Ok();
}

void merge_trace_rules(TraceRules& into, TraceRules from) {
  // Each entry names its table, so that two tables of one kind (x_tables' nat, an nft table of
  // type nat) stay apart.
  for (TraceEntry& e : into.entries) {
    if (e.table_index >= 0) continue;
    e.table_index = INT32_MAX;  // no such table: an index the walk finds nothing at
    for (size_t i = 0; i < into.tables.size(); ++i)
      if (into.tables[i].table == e.table) e.table_index = static_cast<int>(i);
  }
  const int offset = static_cast<int>(into.tables.size());
  for (TableModel& t : from.tables) into.tables.push_back(std::move(t));
  for (TraceEntry& e : from.entries) {
    e.table_index += offset;
    into.entries.push_back(std::move(e));
  }
  // Why: jumps of x_tables rules name their chains as the tables hold them too.
  into.native_names = true;
}

}  // namespace snare
