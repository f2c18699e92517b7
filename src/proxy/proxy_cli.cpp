// The flags of `snare proxy` (CLI11 lives in this one file; see proxy_main.h).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdio>
#include <string>

#include "proxy/duration.h"
#include "proxy/proxy.h"
#include "proxy/proxy_main.h"
#include "proxy/sock_addr.h"

namespace snare {
namespace {

using proxy::FamilyMode;
using proxy::ProxyOptions;
using proxy::SpliceMode;

// Raw flag text; every value is checked below so that each error names its flag and value.
struct RawFlags {
  std::string outbound_port = "15001";
  std::string inbound_port = "15006";
  std::string uid = "1337";
  std::string gid = "1337";
  std::string workers = "1";
  std::string stats_port = "0";
  std::string connect_timeout = "5s";
  std::string idle_timeout = "1h";
  std::string drain_timeout = "5s";
  std::string splice = "auto";
  std::string pipe_size = "1048576";
  std::string max_connections = "0";
  std::string ipv6 = "auto";
  std::string transparent = "true";
  std::string source_v4 = "127.0.0.6";
  std::string source_v6 = "::6";
  std::string access_log = "true";
  std::string log_level = "info";
  bool log_as_json = false;
};

bool parse_uint(const std::string& s, uint64_t max, uint64_t* out) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v > max) return false;
  *out = v;
  return true;
}

bool parse_bool(const std::string& s, bool* out) {
  if (s == "true" || s == "1" || s == "yes" || s == "on") {
    *out = true;
  } else if (s == "false" || s == "0" || s == "no" || s == "off") {
    *out = false;
  } else {
    return false;
  }
  return true;
}

// Returns an empty string, or the one-line error.
std::string check(const RawFlags& f, ProxyOptions* o) {
  uint64_t v = 0;
  auto bad = [](const char* flag, const std::string& value, const char* want) {
    return fmt::format("invalid value \"{}\" for {}: {}", value, flag, want);
  };
  if (!parse_uint(f.outbound_port, 65535, &v)) {
    return bad("--outbound-port", f.outbound_port, "want a port 0-65535 (0: none)");
  }
  o->outbound_port = static_cast<uint16_t>(v);
  if (!parse_uint(f.inbound_port, 65535, &v)) {
    return bad("--inbound-port", f.inbound_port, "want a port 0-65535 (0: none)");
  }
  o->inbound_port = static_cast<uint16_t>(v);
  if (o->outbound_port != 0 && o->outbound_port == o->inbound_port) {
    return bad("--inbound-port", f.inbound_port, "must differ from --outbound-port");
  }
  if (!parse_uint(f.uid, 0xfffffffe, &v)) return bad("--uid", f.uid, "want a numeric uid");
  o->uid = static_cast<uid_t>(v);
  if (!parse_uint(f.gid, 0xfffffffe, &v)) return bad("--gid", f.gid, "want a numeric gid");
  o->gid = static_cast<gid_t>(v);
  if (!parse_uint(f.workers, 64, &v) || v == 0) return bad("--workers", f.workers, "want 1-64");
  o->workers = static_cast<int>(v);
  if (!parse_uint(f.stats_port, 65535, &v)) {
    return bad("--stats-port", f.stats_port, "want a port 0-65535 (0: off)");
  }
  o->stats_port = static_cast<uint16_t>(v);
  const char* want_duration = "want a duration such as 500ms, 5s, 2m, 1h (0: none)";
  if (!proxy::parse_duration(f.connect_timeout, &o->connect_timeout)) {
    return bad("--connect-timeout", f.connect_timeout, want_duration);
  }
  if (!proxy::parse_duration(f.idle_timeout, &o->idle_timeout)) {
    return bad("--idle-timeout", f.idle_timeout, want_duration);
  }
  if (!proxy::parse_duration(f.drain_timeout, &o->drain_timeout)) {
    return bad("--drain-timeout", f.drain_timeout, want_duration);
  }
  if (f.splice == "auto") {
    o->splice = SpliceMode::automatic;
  } else if (f.splice == "always") {
    o->splice = SpliceMode::always;
  } else if (f.splice == "never") {
    o->splice = SpliceMode::never;
  } else {
    return bad("--splice", f.splice, "want auto, always or never");
  }
  if (!parse_uint(f.pipe_size, 1u << 30, &v) || v < 4096) {
    return bad("--pipe-size", f.pipe_size, "want bytes, at least 4096");
  }
  o->pipe_size = static_cast<uint32_t>(v);
  if (!parse_uint(f.max_connections, 1000000000, &v)) {
    return bad("--max-connections", f.max_connections, "want a count (0: from the fd limit)");
  }
  o->max_connections = static_cast<int>(v);
  if (f.ipv6 == "auto") {
    o->ipv6 = FamilyMode::automatic;
  } else {
    bool b = false;
    if (!parse_bool(f.ipv6, &b)) return bad("--ipv6", f.ipv6, "want auto, true or false");
    o->ipv6 = b ? FamilyMode::on : FamilyMode::off;
  }
  if (!parse_bool(f.transparent, &o->inbound_transparent)) {
    return bad("--inbound-transparent", f.transparent, "want true or false");
  }
  auto v4 = proxy::SockAddr::parse_ip(f.source_v4);
  if (!v4 || v4->family() != AF_INET) {
    return bad("--inbound-source-ipv4", f.source_v4, "want an IPv4 address");
  }
  o->inbound_source_v4 = f.source_v4;
  auto v6 = proxy::SockAddr::parse_ip(f.source_v6);
  if (!v6 || v6->family() != AF_INET6) {
    return bad("--inbound-source-ipv6", f.source_v6, "want an IPv6 address");
  }
  o->inbound_source_v6 = f.source_v6;
  if (!parse_bool(f.access_log, &o->access_log)) {
    return bad("--access-log", f.access_log, "want true or false");
  }
  if (f.log_level == "debug") {
    o->log_level = LogLevel::debug;
  } else if (f.log_level == "info") {
    o->log_level = LogLevel::info;
  } else if (f.log_level == "warn") {
    o->log_level = LogLevel::warn;
  } else if (f.log_level == "error") {
    o->log_level = LogLevel::error;
  } else if (f.log_level == "none") {
    o->log_level = LogLevel::none;
  } else {
    return bad("--log-level", f.log_level, "want debug, info, warn, error or none");
  }
  o->log_as_json = f.log_as_json;
  return "";
}

}  // namespace

int proxy_main(int argc, char** argv) {
  CLI::App app{
      "snare proxy: a transparent TCP relay for the capture ports. Outbound connections "
      "(REDIRECTed to --outbound-port) go to their original destination; inbound ones "
      "(REDIRECTed or TPROXYed to --inbound-port) go to it from 127.0.0.6 / ::6.",
      "snare proxy"};
  RawFlags f;
  // A flag given twice takes the last value, as in istio's tools and most CLIs.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("--outbound-port", f.outbound_port,
                 "Outbound capture port (istio -p); 0: no outbound listener")
      ->type_name("PORT")
      ->capture_default_str();
  app.add_option("--inbound-port", f.inbound_port,
                 "Inbound capture port (istio -z); 0: no inbound listener")
      ->type_name("PORT")
      ->capture_default_str();
  app.add_option("--uid", f.uid, "Numeric uid to run as after binding, when started as root")
      ->type_name("UID")
      ->capture_default_str();
  app.add_option("--gid", f.gid, "Numeric gid to run as after binding, when started as root")
      ->type_name("GID")
      ->capture_default_str();
  app.add_option("--workers", f.workers, "Event-loop threads (SO_REUSEPORT listeners when > 1)")
      ->type_name("N")
      ->capture_default_str();
  app.add_option("--stats-port", f.stats_port,
                 "Serve Prometheus text on [::]:PORT, IPv4 and IPv6 (any path); 0: off")
      ->type_name("PORT")
      ->capture_default_str();
  app.add_option("--connect-timeout", f.connect_timeout,
                 "Give up connecting to the original destination after this long")
      ->type_name("DURATION")
      ->capture_default_str();
  app.add_option("--idle-timeout", f.idle_timeout,
                 "Close a connection with no traffic for this long; 0: never")
      ->type_name("DURATION")
      ->capture_default_str();
  app.add_option("--drain-timeout", f.drain_timeout,
                 "After SIGTERM, wait this long for open connections, then close them")
      ->type_name("DURATION")
      ->capture_default_str();
  app.add_option("--splice", f.splice,
                 "auto: copy small messages, splice bulk streams; always; never")
      ->type_name("auto|always|never")
      ->capture_default_str();
  app.add_option("--pipe-size", f.pipe_size, "Bytes per splice pipe (F_SETPIPE_SZ)")
      ->type_name("BYTES")
      ->capture_default_str();
  app.add_option("--max-connections", f.max_connections,
                 "Stop accepting at this many open connections; 0: from the fd limit")
      ->type_name("N")
      ->capture_default_str();
  app.add_option("--ipv6", f.ipv6, "Listen on IPv6 too: auto (if the kernel has it), true, false")
      ->type_name("auto|true|false")
      ->capture_default_str();
  app.add_option("--inbound-transparent", f.transparent,
                 "IP_TRANSPARENT on the inbound listener, so TPROXY rules reach it")
      ->type_name("BOOL")
      ->capture_default_str();
  app.add_option("--inbound-source-ipv4", f.source_v4,
                 "Source address of inbound upstream connections (IPv4)")
      ->type_name("IP")
      ->capture_default_str();
  app.add_option("--inbound-source-ipv6", f.source_v6,
                 "Source address of inbound upstream connections (IPv6)")
      ->type_name("IP")
      ->capture_default_str();
  app.add_option("--access-log", f.access_log, "One log line per connection: true or false")
      ->type_name("BOOL")
      ->capture_default_str();
  app.add_option("--log-level", f.log_level, "debug, info, warn, error or none")
      ->type_name("LEVEL")
      ->capture_default_str();
  app.add_flag("--log_as_json", f.log_as_json, "Log lines as JSON objects");
  bool check_only = false;
  app.add_flag("--check", check_only,
               "Check the flags and exit (0 when they are good), without binding anything");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return 0;
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "snare proxy: %s\n", e.what());
    return 2;
  }
  ProxyOptions o;
  std::string err = check(f, &o);
  if (!err.empty()) {
    std::fprintf(stderr, "snare proxy: %s\n", err.c_str());
    return 2;
  }
  if (check_only) return 0;
  return proxy::run_proxy(o);
}

}  // namespace snare
