// Flags → Config: istio-iptables' command line and environment, with istio's names, short forms,
// defaults and precedence (CLI > alias env > primary env > default), plus snare's own flags.
//
// Parsing is two steps so that every value, from argv or from the environment, goes through the
// same checks: parse_flags() collects the raw strings (CLI11 does the argv side), then
// make_config() validates them into a Config. Neither touches the system: what istio reads from
// the machine (user lookup, addresses, resolv.conf) is filled in later by system_fill.h.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config.h"
#include "status.h"

namespace snare {

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup process_env();

// One flag's raw value and where it came from (for error messages).
struct RawValue {
  std::string value;
  std::string source;  // "-b (--istio-inbound-ports)" or "environment ISTIO_INBOUND_PORTS"
  bool given = false;  // on the command line or in the environment
};

struct RawFlags {
  std::map<std::string, RawValue> values;  // by long name, every flag present (defaults too)
  bool help = false;
  bool version = false;
  std::string help_text;
};

// `command` names the subcommand for help text ("snare", "snare clean", "snare verify").
// On a parse error, returns a Status naming the flag; --help sets `help`.
Status parse_flags(const std::vector<std::string>& args, const EnvLookup& env,
                   const std::string& command, RawFlags& out);

// Validates every value. Warnings (istio quirks snare keeps) go to `warnings`.
Status make_config(const RawFlags& raw, Config& out, std::vector<std::string>& warnings);

// The flag table, for the README/--help consistency test.
std::vector<std::string> flag_names();

}  // namespace snare
