// config_of: the Config that flags make, as the CLI makes it (argv parsed, no environment, host
// facts from FakeHostFacts), for the tests of the layers below the CLI. `command` is the name the
// flags are parsed under (only --help's and errors' text use it): "snare" or, for istio-cni's
// flags, "istio-cni".
#pragma once

#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/fill_config.h"
#include "config/flags.h"
#include "fakes/fake_host_facts.h"

namespace snare::testing {

inline Config config_of(const std::vector<std::string>& args, FakeHostFacts host = {},
                        const std::string& command = "snare") {
  EnvLookup no_env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  RawFlags raw;
  REQUIRE(parse_flags(args, no_env, command, raw).ok());
  Config c;
  std::vector<std::string> w;
  REQUIRE(make_config(raw, c, w).ok());
  REQUIRE(fill_config(c, host, no_env, w).ok());
  return c;
}

// The smallest sidecar Config, set by hand rather than made from flags (for tests that must not
// depend on the flag layer): proxy UID and GID 1337, every inbound port and every outbound CIDR
// captured; everything else as Config leaves it.
inline Config sidecar_config() {
  Config c;
  c.proxy_uids = {{"1337", 1337}};
  c.proxy_gids = {{"1337", 1337}};
  c.inbound_ports_all = true;
  c.outbound_cidrs_all = true;
  return c;
}

}  // namespace snare::testing
