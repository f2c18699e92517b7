// A trace's answer, as text and JSON (see report.h).
#include "trace/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace snare {
namespace {

constexpr int kMaxIndentDepth = 32;  // nesting levels the text path indents

using Outcome = MatchResult::Outcome;

std::string orig_text(const Capture& c) { return addr_port_text(c.orig_dst, c.orig_dport); }

std::string capture_text(const TraceResult& r) {
  const Capture& c = *r.capture;
  switch (c.kind) {
    case Capture::Kind::redirect:
      return fmt::format("captured: REDIRECT to :{}, original destination {}", *c.to_port,
                         orig_text(c));
    case Capture::Kind::tproxy:
      return fmt::format("captured: TPROXY to :{} with mark {:#x}, original destination {}",
                         *c.to_port, r.packet.mark, orig_text(c));
    case Capture::Kind::dnat:
      return fmt::format("captured: DNAT to {}, original destination {}", c.to_addr, orig_text(c));
    case Capture::Kind::snat:
      return fmt::format("not captured: SNAT to {}", c.to_addr);
  }
  return {};
}

const char* outcome_word(Outcome o) {
  switch (o) {
    case Outcome::matched:
      return "matched";
    case Outcome::failed:
      return "no match";
    case Outcome::unknown:
      return "CANNOT EVALUATE";
  }
  return "?";
}

}  // namespace

const char* trace_action(const TraceResult& r) {
  if (r.dropped) return "drop";
  if (r.capture) {
    switch (r.capture->kind) {
      case Capture::Kind::redirect:
        return "redirect";
      case Capture::Kind::tproxy:
        return "tproxy";
      case Capture::Kind::snat:
        return "snat";
      case Capture::Kind::dnat:
        return "dnat";
    }
  }
  return r.accepted ? "accept" : "none";
}

std::string trace_summary(const TraceResult& r) {
  std::string s;
  if (!r.error.empty())
    s = "stopped: " + r.error;
  else if (r.dropped)
    s = "dropped by " + r.by;
  else if (r.capture)
    s = capture_text(r) + (r.by.empty() ? "" : ", by " + r.by);
  else
    s = fmt::format("not captured: no rule redirects it{}",
                    r.last_match.empty() ? "" : "; last rule matched: " + r.last_match);
  if (!r.uncertain.empty())
    s = fmt::format("uncertain ({} rule{} could not be evaluated): {}", r.uncertain.size(),
                    r.uncertain.size() == 1 ? "" : "s", s);
  return s;
}

std::string trace_text(const TraceResult& r) {
  std::string out = trace_summary(r) + "\n";
  for (const TraceStep& s : r.path) {
    // Why the cap: a hostile --rules file can nest 20,000 chains, and indenting each line by its
    // depth made the text quadratic (100 MB for 10,000); past the cap the depth is in the JSON.
    const std::string pad(static_cast<size_t>(2 + 2 * std::min(s.depth, kMaxIndentDepth)), ' ');
    switch (s.kind) {
      case TraceStep::Kind::enter:
        fmt::format_to(std::back_inserter(out), "{}\n", s.text);
        break;
      case TraceStep::Kind::note:
        fmt::format_to(std::back_inserter(out), "  ({})\n", s.text);
        break;
      case TraceStep::Kind::policy:
        fmt::format_to(std::back_inserter(out), "  {} {}\n", s.chain, s.text);
        break;
      case TraceStep::Kind::rule:  // one per rule walked: appended, no format string to parse
        out += pad;
        out += s.chain;
        out += ' ';
        out += std::to_string(s.position);
        out += ": ";
        out += s.text;
        out += ": ";
        out += outcome_word(s.outcome);
        if (!s.why.empty()) out += " (" + s.why + ")";
        out += '\n';
        break;
    }
  }
  if (r.routing) fmt::format_to(std::back_inserter(out), "{}\n", r.routing->note);
  for (const std::string& u : r.uncertain)
    fmt::format_to(std::back_inserter(out), "cannot evaluate: {}\n", u);
  return out;
}

namespace {

// `s` as a JSON string, as nlohmann's dump writes it. Why not through nlohmann for each path
// entry: building an object of eight keys per rule cost three times the walk itself on a
// 2,000-rule path (bench/trace.sh); plain ASCII (all rule text snare renders) is escaped here,
// anything else (control or non-ASCII bytes from a --rules file) still goes through nlohmann.
void json_string(std::string& out, const std::string& s) {
  for (const char c : s)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      out += nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      return;
    }
  out += '"';
  size_t from = 0;
  for (size_t at = s.find_first_of("\"\\"); at != std::string::npos;
       from = at, at = s.find_first_of("\"\\", at + 1)) {
    out.append(s, from, at - from);
    out += '\\';
  }
  out.append(s, from);
  out += '"';
}

// One path entry, its keys in nlohmann's (sorted) order; appended piece by piece, no format
// string to parse per rule.
void json_step(std::string& out, const TraceStep& s) {
  out += "{\"chain\":";
  json_string(out, s.chain);
  out += ",\"depth\":";
  out += std::to_string(s.depth);
  out += ",\"hook\":\"";
  out += hook_name(s.hook);
  out += "\",\"matched\":";
  out += s.kind == TraceStep::Kind::policy || s.outcome == Outcome::matched ? "true"
         : s.outcome == Outcome::failed                                     ? "false"
                                                                            : "null";
  out += ",\"position\":";
  out += s.kind == TraceStep::Kind::rule ? std::to_string(s.position) : "null";
  out += ",\"rule\":";
  json_string(out, s.text);
  out += ",\"table\":";
  json_string(out, s.table_name);
  out += ",\"why\":";
  json_string(out, s.why);
  out += '}';
}

}  // namespace

std::string trace_json(const TraceResult& r, const std::string& live) {
  nlohmann::json j;
  j["summary"] = trace_summary(r);
  j["captured"] = r.captured();
  j["action"] = trace_action(r);
  j["to_port"] = r.capture && r.capture->to_port ? nlohmann::json(*r.capture->to_port) : nullptr;
  j["original_destination"] = r.captured() ? nlohmann::json(orig_text(*r.capture)) : nullptr;
  j["mark"] = r.packet.mark;
  j["ctmark"] = r.packet.ctmark;
  j["zone"] = r.zone ? nlohmann::json(*r.zone) : nullptr;
  j["by"] = r.by.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.by);
  j["uncertain"] = r.uncertain;
  j["error"] = r.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.error);
  if (!live.empty()) j["live"] = nlohmann::json::parse(live, nullptr, false);
  j["routing"] = nullptr;
  if (r.routing)
    j["routing"] = {{"rule", r.routing->matched ? nlohmann::json(r.routing->rule) : nullptr},
                    {"local", r.routing->matched},
                    {"note", r.routing->note}};
  j["path"] = nlohmann::json::array();
  // Why replace: a --rules file's bytes (a module's name, a listing's) need not be UTF-8.
  std::string out = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  // The path goes in place of the empty array: an unescaped `"path":[]` can only be that key,
  // since a quote inside a string value is written as \"; the last one, since "live" (whose own
  // path may be empty) sorts before it.
  std::string path = "[";
  for (const TraceStep& s : r.path) {
    if (s.kind != TraceStep::Kind::rule && s.kind != TraceStep::Kind::policy) continue;
    if (path.size() > 1) path += ',';
    json_step(path, s);
  }
  path += ']';
  const std::string key = "\"path\":[]";
  out.replace(out.rfind(key) + key.size() - 2, 2, path);
  return out + "\n";
}

}  // namespace snare
