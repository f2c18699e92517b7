// The run options both flag tables share (config/flag_checker.h): --output-format, where the rules
// go (--network-namespace, --netns-pid) and logging, each bad value refused with one error naming
// the flag, the same through `snare`'s flags and `snare ambient`'s.
#include "config/flag_checker.h"

#include <catch2/catch.hpp>
#include <optional>

#include "config/ambient_flags.h"
#include "config/flags.h"

using namespace snare;

namespace {

struct Result {
  Status status;
  Config cfg;
};

// The Config (or the first error) that the arguments make, through the sidecar's flag table or
// through `snare ambient`'s; no environment.
Result parse(bool ambient, const std::vector<std::string>& args) {
  EnvLookup no_env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  Result r;
  if (ambient) {
    AmbientRawFlags raw;
    r.status = parse_ambient_flags(Command::ambient, args, no_env, "snare ambient", raw);
    if (r.status.ok()) r.status = make_ambient_config(Command::ambient, raw, r.cfg);
  } else {
    RawFlags raw;
    std::vector<std::string> warnings;
    r.status = parse_flags(args, no_env, "snare", raw);
    if (r.status.ok()) r.status = make_config(raw, r.cfg, warnings);
  }
  return r;
}

}  // namespace

TEST_CASE("both flag tables check the run options alike") {
  const bool ambient = GENERATE(false, true);
  CAPTURE(ambient);

  Result r = parse(ambient, {"--output-format", "save", "--netns-pid", "4194304", "--log_as_json"});
  REQUIRE(r.status.ok());
  CHECK(r.cfg.output_format == OutputFormat::save);
  CHECK(r.cfg.netns_pid == 4194304);
  CHECK(r.cfg.log_as_json);
  r = parse(ambient, {"--network-namespace", "/run/netns/x"});
  REQUIRE(r.status.ok());
  CHECK(r.cfg.network_namespace == "/run/netns/x");
  CHECK(r.cfg.output_format == OutputFormat::restore);
  CHECK_FALSE(r.cfg.log_as_json);

  const std::vector<std::pair<std::vector<std::string>, std::string>> bad = {
      {{"--output-format", "json"},
       "--output-format: \"json\" is not an output format (restore or save)"},
      {{"--netns-pid", "0"}, "--netns-pid: \"0\" is not a process ID"},
      {{"--netns-pid", "4194305"}, "--netns-pid: \"4194305\" is not a process ID"},
      {{"--netns-pid", "12x"}, "--netns-pid: \"12x\" is not a process ID"},
      {{"--network-namespace", "/run/netns/x", "--netns-pid", "5"},
       "--netns-pid: give either --network-namespace or --netns-pid, not both"},
      {{"--log_output_level", "loud"}, "--log_output_level: "},
      {{"--log_as_json=maybe"}, "--log_as_json: "},
  };
  for (const auto& [args, error] : bad) {
    CAPTURE(args);
    Result b = parse(ambient, args);
    REQUIRE_FALSE(b.status.ok());
    CHECK_THAT(b.status.error, Catch::StartsWith(error));
  }
}
