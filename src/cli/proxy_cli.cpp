// The flags of `snare proxy` (see proxy_main.h): one table, pflag's grammar (config/argv.h) and
// the value parsers every snare command shares (base/parse.h).
#include <fmt/format.h>

#include <cstdio>
#include <string>

#include "base/parse.h"
#include "cli/proxy_main.h"
#include "config/argv.h"
#include "proxy/proxy.h"
#include "proxy/sock_addr.h"

namespace snare {
namespace {

using proxy::FamilyMode;
using proxy::ProxyOptions;
using proxy::SpliceMode;

enum class P : uint8_t {
  outbound_port,
  inbound_port,
  uid,
  gid,
  workers,
  stats_port,
  connect_timeout,
  idle_timeout,
  drain_timeout,
  splice,
  pipe_size,
  max_connections,
  ipv6,
  inbound_transparent,
  inbound_source_ipv4,
  inbound_source_ipv6,
  access_log,
  log_level,
  log_as_json,
  check,
  count_,
};

struct ProxyFlag {
  OptionSpec spec;
  const char* def;
};

// clang-format off
constexpr ProxyFlag kFlags[] = {
  {{'\0', "outbound-port", false, "PORT", "outbound capture port (istio -p); 0: no outbound listener"}, "15001"},
  {{'\0', "inbound-port", false, "PORT", "inbound capture port (istio -z); 0: no inbound listener"}, "15006"},
  {{'\0', "uid", false, "UID", "numeric uid to run as after binding, when started as root"}, "1337"},
  {{'\0', "gid", false, "GID", "numeric gid to run as after binding, when started as root"}, "1337"},
  {{'\0', "workers", false, "N", "event-loop threads (SO_REUSEPORT listeners when > 1), 1-64"}, "1"},
  {{'\0', "stats-port", false, "PORT", "serve Prometheus text on [::]:PORT, IPv4 and IPv6 (any path); 0: off"}, "0"},
  {{'\0', "connect-timeout", false, "DURATION", "give up connecting to the original destination after this long"}, "5s"},
  {{'\0', "idle-timeout", false, "DURATION", "close a connection with no traffic for this long; 0: never"}, "1h"},
  {{'\0', "drain-timeout", false, "DURATION", "after SIGTERM, wait this long for open connections, then close them"}, "5s"},
  {{'\0', "splice", false, "MODE", "auto: copy small messages, splice bulk streams; always; never"}, "auto"},
  {{'\0', "pipe-size", false, "BYTES", "bytes per splice pipe (F_SETPIPE_SZ), at least 4096"}, "1048576"},
  {{'\0', "max-connections", false, "N", "stop accepting at this many open connections; 0: from the fd limit"}, "0"},
  {{'\0', "ipv6", false, "auto|BOOL", "listen on IPv6 too: auto (if the kernel has it), true, false"}, "auto"},
  {{'\0', "inbound-transparent", false, "BOOL", "IP_TRANSPARENT on the inbound listener, so TPROXY rules reach it"}, "true"},
  {{'\0', "inbound-source-ipv4", false, "IP", "source address of inbound upstream connections (IPv4)"}, "127.0.0.6"},
  {{'\0', "inbound-source-ipv6", false, "IP", "source address of inbound upstream connections (IPv6)"}, "::6"},
  {{'\0', "access-log", false, "BOOL", "one log line per connection"}, "true"},
  {{'\0', "log-level", false, "LEVEL", "debug, info, warn, error or none"}, "info"},
  {{'\0', "log_as_json", true, "", "log lines as JSON objects"}, "false"},
  {{'\0', "check", true, "", "check the flags and exit (0 when they are good), binding nothing"}, "false"},
};
// clang-format on
static_assert(std::size(kFlags) == static_cast<size_t>(P::count_));

// The raw values, defaults filled in, and the first error naming its flag.
class Values {
 public:
  explicit Values(const ArgvResult& argv) {
    for (size_t i = 0; i < std::size(kFlags); ++i)
      values_[i] = argv.values[i] ? *argv.values[i] : kFlags[i].def;
  }
  const std::string& operator[](P p) const { return values_[static_cast<size_t>(p)]; }
  template <typename T>
  T take(P p, Parsed<T> parsed) {
    if (!parsed.ok()) fail(p, parsed.error);
    return parsed.value;
  }
  void fail(P p, const std::string& why) {
    if (error.empty())
      error = fmt::format("--{}: {}", kFlags[static_cast<size_t>(p)].spec.name, why);
  }
  uint32_t number(P p, uint32_t lo, uint32_t hi) {
    auto n = parse_u32((*this)[p]);
    if (n.ok() && (n.value < lo || n.value > hi))
      n.error = fmt::format("\"{}\" is out of range ({}-{})", (*this)[p], lo, hi);
    return take(p, n);
  }
  std::string error;

 private:
  std::array<std::string, static_cast<size_t>(P::count_)> values_;
};

void listeners_and_identity(Values& v, ProxyOptions& o) {
  o.outbound_port = v.take(P::outbound_port, parse_port(v[P::outbound_port], true));
  o.inbound_port = v.take(P::inbound_port, parse_port(v[P::inbound_port], true));
  o.stats_port = v.take(P::stats_port, parse_port(v[P::stats_port], true));
  if (!v.error.empty()) return;
  if (o.outbound_port == 0 && o.inbound_port == 0)
    v.fail(P::inbound_port, "--outbound-port and --inbound-port are both 0: nothing to listen on");
  else if (o.outbound_port != 0 && o.outbound_port == o.inbound_port)
    v.fail(P::inbound_port, fmt::format("\"{}\" must differ from --outbound-port", o.inbound_port));
  else if (o.stats_port != 0 && (o.stats_port == o.outbound_port || o.stats_port == o.inbound_port))
    v.fail(P::stats_port, fmt::format("\"{}\" is a capture listener's port; pick another (istio "
                                      "serves stats on 15090)",
                                      o.stats_port));
  o.uid = v.number(P::uid, 0, 0xfffffffe);
  o.gid = v.number(P::gid, 0, 0xfffffffe);
  o.workers = static_cast<int>(v.number(P::workers, 1, 64));
  auto src4 = v.take(P::inbound_source_ipv4, parse_ip(v[P::inbound_source_ipv4]));
  if (src4.v6)
    v.fail(P::inbound_source_ipv4,
           fmt::format("\"{}\" is not an IPv4 address", v[P::inbound_source_ipv4]));
  auto src6 = v.take(P::inbound_source_ipv6, parse_ip(v[P::inbound_source_ipv6]));
  if (!src6.v6)
    v.fail(P::inbound_source_ipv6,
           fmt::format("\"{}\" is not an IPv6 address", v[P::inbound_source_ipv6]));
  o.inbound_source_v4 = v[P::inbound_source_ipv4];
  o.inbound_source_v6 = v[P::inbound_source_ipv6];
}

void relay_behaviour(Values& v, ProxyOptions& o) {
  o.connect_timeout = v.take(P::connect_timeout, parse_duration(v[P::connect_timeout]));
  o.idle_timeout = v.take(P::idle_timeout, parse_duration(v[P::idle_timeout]));
  o.drain_timeout = v.take(P::drain_timeout, parse_duration(v[P::drain_timeout]));
  const std::string& splice = v[P::splice];
  if (splice == "auto" || splice == "always" || splice == "never")
    o.splice = splice == "auto"     ? SpliceMode::automatic
               : splice == "always" ? SpliceMode::always
                                    : SpliceMode::never;
  else
    v.fail(P::splice, fmt::format("\"{}\" is not auto, always or never", splice));
  o.pipe_size = v.number(P::pipe_size, 4096, 1u << 30);
  o.max_connections = static_cast<int>(v.number(P::max_connections, 0, 1000000000));
  if (v[P::ipv6] == "auto")
    o.ipv6 = FamilyMode::automatic;
  else
    o.ipv6 = v.take(P::ipv6, parse_bool(v[P::ipv6])) ? FamilyMode::on : FamilyMode::off;
  o.inbound_transparent = v.take(P::inbound_transparent, parse_bool(v[P::inbound_transparent]));
  o.access_log = v.take(P::access_log, parse_bool(v[P::access_log]));
  o.log_level = v.take(P::log_level, parse_log_level(v[P::log_level]));
  o.log_as_json = v.take(P::log_as_json, parse_bool(v[P::log_as_json]));
}

std::string help() {
  std::vector<OptionSpec> specs;
  std::vector<std::string> defaults;
  for (const ProxyFlag& f : kFlags) {
    specs.push_back(f.spec);
    defaults.push_back(f.spec.is_bool ? "" : fmt::format(" (default {})", f.def));
  }
  return "snare proxy: a transparent TCP relay for the capture ports. Outbound connections\n"
         "(REDIRECTed to --outbound-port) go to their original destination; inbound ones\n"
         "(REDIRECTed or TPROXYed to --inbound-port) go to it from 127.0.0.6 / ::6.\n\n"
         "usage: snare proxy [FLAGS]\n\n" +
         options_help(specs, defaults) +
         "  -h, --help                                print this help and exit\n";
}

}  // namespace

int proxy_main(int argc, char** argv) {
  std::vector<OptionSpec> specs;
  for (const ProxyFlag& f : kFlags) specs.push_back(f.spec);
  const ArgvResult argv_values = parse_argv(specs, std::vector<std::string>(argv + 1, argv + argc));
  if (!argv_values.error.empty()) {
    std::fprintf(stderr, "snare proxy: %s (run `snare proxy --help` for the flags)\n",
                 argv_values.error.c_str());
    return 2;
  }
  if (argv_values.help) {
    std::fputs(help().c_str(), stdout);
    return 0;
  }
  Values v(argv_values);
  ProxyOptions o;
  listeners_and_identity(v, o);
  relay_behaviour(v, o);
  if (!v.error.empty()) {
    std::fprintf(stderr, "snare proxy: %s\n", v.error.c_str());
    return 2;
  }
  if (parse_bool(v[P::check]).value) return 0;
  return proxy::run_proxy(o);
}

}  // namespace snare
