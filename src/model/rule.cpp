// Names and facts about tables and chains (see rule.h).
#include "model/rule.h"

namespace snare {

const char* family_name(Family f) { return f == Family::v4 ? "ipv4" : "ipv6"; }

const char* table_name(Table t) {
  switch (t) {
    case Table::nat:
      return "nat";
    case Table::mangle:
      return "mangle";
    case Table::raw:
      return "raw";
  }
  return "?";
}

std::vector<Family> plan_families(const Plan& plan) {
  if (plan.ipv6) return {Family::v4, Family::v6};
  return {Family::v4};
}

bool is_verdict(const std::string& target) {
  return target == "ACCEPT" || target == "DROP" || target == "RETURN";
}

bool is_builtin_chain(const std::string& name) {
  return name == "PREROUTING" || name == "INPUT" || name == "FORWARD" || name == "OUTPUT" ||
         name == "POSTROUTING";
}

bool is_istio_chain(const std::string& name) { return name.rfind("ISTIO_", 0) == 0; }

const std::vector<std::string>& builtin_chains(Table t) {
  static const std::vector<std::string> kNat = {"PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"};
  static const std::vector<std::string> kMangle = {"PREROUTING", "INPUT", "FORWARD", "OUTPUT",
                                                   "POSTROUTING"};
  static const std::vector<std::string> kRaw = {"PREROUTING", "OUTPUT"};
  switch (t) {
    case Table::nat:
      return kNat;
    case Table::mangle:
      return kMangle;
    case Table::raw:
      return kRaw;
  }
  return kRaw;
}

}  // namespace snare
