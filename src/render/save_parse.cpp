// iptables-save text into table models (see save_parse.h).
#include "render/save_parse.h"

#include <fmt/format.h>

#include <deque>
#include <memory>
#include <string>

#include "base/parse.h"
#include "ext/forms.h"

namespace snare {
namespace {

constexpr size_t kMaxChainName = 28;  // XT_EXTENSION_MAXNAMELEN - 1

struct Line {
  size_t number = 0;
  std::string_view text;
};

// Splits a line into words; a double-quoted word (iptables-save quotes comments) may hold
// spaces and backslash escapes, and is kept in `store`.
Status tokenize(std::string_view line, size_t max_tokens, std::deque<std::string>& store,
                std::vector<std::string_view>& out) {
  size_t i = 0;
  while (i < line.size()) {
    if (line[i] == ' ' || line[i] == '\t') {
      ++i;
      continue;
    }
    if (out.size() >= max_tokens)
      return Status::Fail(fmt::format("more than {} words", max_tokens));
    if (line[i] != '"') {
      const size_t end = line.find_first_of(" \t", i);
      out.push_back(line.substr(i, end == std::string_view::npos ? end : end - i));
      i = end == std::string_view::npos ? line.size() : end;
      continue;
    }
    std::string word;
    for (++i; i < line.size() && line[i] != '"'; ++i) {
      if (line[i] == '\\' && i + 1 < line.size()) ++i;
      word += line[i];
    }
    if (i >= line.size()) return Status::Fail("a quoted word has no closing quote");
    ++i;
    out.push_back(store.emplace_back(std::move(word)));
  }
  return Status::Ok();
}

bool header_option(std::string_view w, std::string_view& shortname) {
  static const std::pair<std::string_view, std::string_view> kHeader[] = {
      {"-s", "-s"}, {"--source", "-s"},       {"-d", "-d"}, {"--destination", "-d"},
      {"-i", "-i"}, {"--in-interface", "-i"}, {"-o", "-o"}, {"--out-interface", "-o"},
      {"-p", "-p"}, {"--protocol", "-p"}};
  for (const auto& [name, s] : kHeader)
    if (w == name) return shortname = s, true;
  return false;
}

// The words after `-A CHAIN` into header options, `-m` modules and the `-j` or `-g` target (a
// goto: its target with the option `-g`); fragments (`-f`) and anything else the model has no
// place for go into `notes`.
Status split_rule(const std::vector<std::string_view>& w, SaveRuleParts& parts,
                  std::vector<std::string>& notes) {
  std::vector<SaveOpt>* current = nullptr;  // the options of the last -m or the -j
  bool invert = false;
  for (size_t i = 2; i < w.size(); ++i) {
    std::string_view word = w[i], shortname;
    auto value = [&](std::string_view what) -> Parsed<std::string_view> {
      if (i + 1 >= w.size())
        return Parsed<std::string_view>::fail(fmt::format("{} has no value", what));
      return Parsed<std::string_view>{w[++i], {}};
    };
    if (word == "!") {
      if (invert) return Status::Fail("two ! in a row");
      invert = true;
      continue;
    }
    if (header_option(word, shortname)) {
      auto v = value(word);
      if (!v.ok()) return Status::Fail(v.error);
      parts.header.push_back(SaveOpt{invert, shortname, {v.value}});
    } else if (word == "-m" || word == "--match" || word == "-j" || word == "--jump" ||
               word == "-g" || word == "--goto") {
      auto v = value(word);
      if (!v.ok()) return Status::Fail(v.error);
      if (invert) return Status::Fail(fmt::format("! before {}", word));
      if (word == "-m" || word == "--match") {
        current = &parts.matches.emplace_back(v.value, std::vector<SaveOpt>{}).second;
      } else {
        if (!parts.target.empty()) return Status::Fail("two targets");
        parts.target = v.value;
        current = &parts.target_opts;
        // Why an option: the goto is the standard target with a flag, which the extension that
        // models it takes (unused, the rule is unmodelled, like any option nobody reads).
        if (word == "-g" || word == "--goto") current->push_back(SaveOpt{false, "-g", {}});
      }
    } else if (word.size() > 2 && word.substr(0, 2) == "--") {
      if (!current) return Status::Fail(fmt::format("option {} outside a -m or -j", word));
      SaveOpt o{invert, word, {}};
      while (i + 1 < w.size() && w[i + 1] != "!" && (w[i + 1].empty() || w[i + 1][0] != '-'))
        o.values.push_back(w[++i]);
      current->push_back(std::move(o));
    } else if (word == "-f" || word == "--fragment") {
      notes.push_back(std::string(invert ? "! -f" : "-f"));
    } else {
      return Status::Fail(fmt::format("unexpected word '{}'", word));
    }
    invert = false;
  }
  if (invert) return Status::Fail("! at the end of the rule");
  return Status::Ok();
}

bool traced_table(std::string_view name, Table& t) {
  for (Table x : kTables)
    if (name == table_name(x)) return t = x, true;
  return false;
}

class SaveReader {
 public:
  SaveReader(Family family, const SaveTextLimits& limits, std::vector<TableModel>& out)
      : family_(family), limits_(limits), out_(out) {}

  Status line(const Line& l) {
    std::string_view t = l.text;
    if (t.empty() || t[0] == '#') return Status::Ok();
    if (t[0] == '*') return open_table(t.substr(1));
    if (!in_table_)
      return Status::Fail("a rule or chain outside a table (no *table line before it)");
    if (t == "COMMIT") return commit();
    if (t[0] == ':') return chain(t.substr(1));
    if (t[0] == '[') {  // iptables-save -c: "[packets:bytes] -A ..."
      const size_t end = t.find("] ");
      if (end == std::string_view::npos) return Status::Fail("a counter without its closing ]");
      t = t.substr(end + 2);
    }
    if (t.substr(0, 3) == "-A ") return rule(t);
    return Status::Fail(fmt::format("unexpected line '{}'", t.substr(0, 40)));
  }

  Status finish() {
    if (in_table_)
      return Status::Fail(fmt::format("*{} has no COMMIT (is the file cut short?)", name_));
    return Status::Ok();
  }

 private:
  Status open_table(std::string_view name) {
    if (in_table_)
      return Status::Fail(fmt::format("*{} inside *{} (no COMMIT before it)", name, name_));
    in_table_ = true;
    name_ = std::string(name);
    Table t;
    keep_ = traced_table(name, t);
    if (keep_) {
      for (const TableModel& m : out_)
        if (m.table == t) return Status::Fail(fmt::format("*{} a second time", name));
      current_ = empty_table(family_, t);
      current_.present = true;
    }
    return Status::Ok();
  }

  Status commit() {
    in_table_ = false;
    if (keep_) out_.push_back(std::move(current_));
    if (left_out_)
      skipped_.push_back(
          fmt::format("*{}: {} rule{}", name_, left_out_, left_out_ == 1 ? "" : "s"));
    left_out_ = 0;
    return Status::Ok();
  }

  // ":NAME POLICY [p:b]": a builtin chain's policy, or a user chain ("-").
  Status chain(std::string_view t) {
    const size_t sp = t.find(' ');
    const std::string name(t.substr(0, sp));
    const std::string_view rest = sp == std::string_view::npos ? "" : t.substr(sp + 1);
    const std::string_view policy = rest.substr(0, rest.find(' '));
    if (name.empty() || name.size() > kMaxChainName)
      return Status::Fail(
          fmt::format("chain name '{}' is empty or longer than {}", name, kMaxChainName));
    if (++chains_ > limits_.max_chains)
      return Status::Fail(fmt::format("more than {} chains", limits_.max_chains));
    if (!keep_) return Status::Ok();
    if (Chain* c = current_.find(name)) {
      if (!c->builtin || !c->entries.empty())
        return Status::Fail(fmt::format("chain {} declared twice", name));
      if (policy != "ACCEPT" && policy != "DROP")
        return Status::Fail(
            fmt::format("chain {}: policy '{}' is not ACCEPT or DROP", name, policy));
      c->policy = std::string(policy);
      return Status::Ok();
    }
    if (policy != "-")
      return Status::Fail(
          fmt::format("chain {} is no builtin of *{} and has a policy", name, name_));
    current_.chains.push_back(Chain{name, false, "", {}});
    return Status::Ok();
  }

  Status rule(std::string_view t) {
    if (++rules_ > limits_.max_rules)
      return Status::Fail(fmt::format("more than {} rules", limits_.max_rules));
    std::deque<std::string> store;
    std::vector<std::string_view> words;
    if (Status s = tokenize(t, limits_.max_tokens, store, words); !s.ok()) return s;
    if (words.size() < 2) return Status::Fail("-A without a chain");
    if (!keep_) return ++left_out_, Status::Ok();
    Chain* c = current_.find(std::string(words[1]));
    if (!c) return Status::Fail(fmt::format("-A {}: the chain was not declared", words[1]));
    SaveRuleParts parts;
    std::vector<std::string> notes;
    if (Status s = split_rule(words, parts, notes); !s.ok()) return s;
    DecodedRule d = rule_from_save(family_, parts);
    d.unsupported.insert(d.unsupported.end(), notes.begin(), notes.end());
    // Why: a target no extension reads comes back as a jump; unless the table has that chain
    // it is a target snare does not model (LOG, ...), not a jump.
    if (const std::string* entered = entered_chain(d.rule.target);
        entered && !parts.target.empty() && !current_.find(*entered))
      d.unsupported.push_back(fmt::format("-j {}", *entered));
    d.rule.table = current_.table;
    d.rule.chain = c->name;
    Entry e;
    e.rule = std::make_shared<const Rule>(std::move(d.rule));
    e.unsupported = std::move(d.unsupported);
    c->entries.push_back(std::move(e));
    return Status::Ok();
  }

  Family family_;
  const SaveTextLimits& limits_;
  std::vector<TableModel>& out_;
  bool in_table_ = false, keep_ = false;
  std::string name_;
  TableModel current_;
  size_t chains_ = 0, rules_ = 0;
  size_t left_out_ = 0;  // rules of the table being read that is left out

 public:
  std::vector<std::string> skipped_;  // "*filter: 3 rules": the tables left out that had rules
};

}  // namespace

Status parse_save_text(std::string_view text, Family family, std::vector<TableModel>& out,
                       const SaveTextLimits& limits, std::vector<std::string>* left_out) {
  out.clear();
  if (text.size() > limits.max_bytes)
    return Status::Fail(fmt::format("more than {} bytes", limits.max_bytes));
  SaveReader reader(family, limits, out);
  Line l;
  for (size_t pos = 0; pos < text.size();) {
    const size_t nl = text.find('\n', pos);
    l.text = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++l.number;
    if (!l.text.empty() && l.text.back() == '\r') l.text.remove_suffix(1);
    Status s = l.text.size() > limits.max_line
                   ? Status::Fail(fmt::format("longer than {} bytes", limits.max_line))
               : l.text.find('\0') != std::string_view::npos ? Status::Fail("a NUL byte")
                                                             : reader.line(l);
    if (!s.ok()) return Status::Fail(fmt::format("line {}: {}", l.number, s.error));
  }
  if (Status s = reader.finish(); !s.ok())
    return Status::Fail(fmt::format("line {}: {}", l.number, s.error));
  if (left_out) *left_out = std::move(reader.skipped_);
  return Status::Ok();
}

std::optional<Family> save_text_family(std::string_view text) {
  if (text.find("# Generated by ip6tables-save") != std::string_view::npos) return Family::v6;
  if (text.find("# Generated by iptables-save") != std::string_view::npos) return Family::v4;
  for (std::string_view opt : {" -s ", " -d ", " --to-source "}) {
    const size_t at = text.find(opt);
    if (at == std::string_view::npos) continue;
    const std::string_view v = text.substr(at + opt.size(), 64);
    return v.substr(0, v.find_first_of(" \n")).find(':') != std::string_view::npos ? Family::v6
                                                                                   : Family::v4;
  }
  return std::nullopt;
}

}  // namespace snare
