// The command-line grammar of Go's pflag, which istio-iptables' flags use, for a table of options:
//
//   --name=value  --name value  -n value  -n=value  -nvalue
//   boolean flags take no value (`--dry-run`) unless it is attached (`--dry-run=false`, `-n=0`);
//   several boolean short flags may share one dash; `--` ends the flags.
//
// A flag given twice takes its last value. Arguments that are not flags are an error: none of
// snare's commands takes one. Why not a general CLI library: the grammar is pflag's, so that
// istio's arguments mean the same, and the table is the single place a flag is described
// (docs/DESIGN.md, "Flags").
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace snare {

struct OptionSpec {
  char short_name;        // '\0' when none
  std::string_view name;  // long name without dashes
  bool is_bool;
  std::string_view value_name;  // for --help: "PORT", "LIST", ...; empty for booleans
  std::string_view help;
};

struct ArgvResult {
  std::vector<std::optional<std::string>> values;  // by option index; set when given
  bool help = false;
  bool version = false;
  std::string error;  // one sentence; empty when the arguments parsed
};

// `-h/--help` and `--version` are understood in addition to `options`.
ArgvResult parse_argv(std::span<const OptionSpec> options, const std::vector<std::string>& args);

// "  -p, --envoy-port PORT    text" lines, `extra` (environment, default) appended per option.
std::string options_help(std::span<const OptionSpec> options,
                         const std::vector<std::string>& extra = {});

}  // namespace snare
