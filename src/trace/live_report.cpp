// `snare trace --live`'s answer as text and JSON (see live.h).
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "trace/live.h"

namespace snare {
namespace {

std::string verdict_line(const LiveResult& r) {
  if (r.action == "drop") return "dropped";
  if (r.captured || r.action == "snat")
    return fmt::format("{}: {}{}", r.captured ? "captured" : "not captured", r.action,
                       r.to_port ? fmt::format(" to :{}", *r.to_port) : "");
  return fmt::format("not captured ({})", r.action == "accept" ? "accepted" : "no verdict");
}

std::string step_line(const LiveStep& s) {
  std::string where = fmt::format("inet {} {}", s.table, s.chain);
  if (s.policy) return fmt::format("  {} policy {}", where, s.verdict);
  std::string out = fmt::format(
      "  {} rule {} (handle {}{}): {}", where, s.position ? std::to_string(s.position) : "?",
      s.handle, s.simulated ? "" : ", a table the simulation does not have", s.verdict);
  if (!s.target.empty()) out += " " + s.target;
  return out;
}

}  // namespace

std::string live_text(const LiveResult& r, bool color) {
  if (!r.error.empty()) return "kernel (--live): no answer: " + r.error + "\n";
  std::string out = "kernel (--live, nftables trace): " + verdict_line(r) +
                    (r.oif.empty() ? "" : ", routed out on " + r.oif) + "\n";
  for (const LiveStep& s : r.path) {
    out += step_line(s);
    out += '\n';
  }
  if (r.disagreements.empty()) return out + "kernel and simulation agree\n";
  for (const std::string& d : r.disagreements)
    out += fmt::format("{}DISAGREES: {}{}\n", color ? "\033[1;31m" : "", d, color ? "\033[0m" : "");
  return out;
}

std::string live_json(const LiveResult& r) {
  nlohmann::json j;
  j["error"] = r.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.error);
  j["captured"] = r.captured;
  j["action"] = r.action;
  j["to_port"] = r.to_port ? nlohmann::json(*r.to_port) : nullptr;
  j["oif"] = r.oif.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.oif);
  j["agrees"] = r.error.empty() && r.disagreements.empty();
  j["disagreements"] = r.disagreements;
  j["path"] = nlohmann::json::array();
  for (const LiveStep& s : r.path)
    j["path"].push_back(
        {{"table", s.table},
         {"chain", s.chain},
         {"position", s.position ? nlohmann::json(s.position) : nullptr},
         {"handle", s.policy ? nlohmann::json(nullptr) : nlohmann::json(s.handle)},
         {"policy", s.policy},
         {"verdict", s.verdict},
         {"target", s.target.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.target)},
         {"simulated", s.simulated}});
  return j.dump();
}

}  // namespace snare
