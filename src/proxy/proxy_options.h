// ProxyOptions: what `snare proxy` was asked to do, validated, as plain data (defaults here).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>

#include "base/log.h"

namespace snare::proxy {

enum class SpliceMode { automatic, always, never };
enum class FamilyMode { automatic, on, off };

struct ProxyOptions {
  uint16_t outbound_port = 15001;  // 0: no outbound listener
  uint16_t inbound_port = 15006;   // 0: no inbound listener
  std::string bind_v4 = "0.0.0.0";
  std::string bind_v6 = "::";
  FamilyMode ipv6 = FamilyMode::automatic;      // automatic: listen on IPv6 when the kernel has it
  bool inbound_transparent = true;              // IP_TRANSPARENT on the inbound listener (TPROXY)
  std::string inbound_source_v4 = "127.0.0.6";  // source of inbound upstream connections
  std::string inbound_source_v6 = "::6";
  uid_t uid = 1337;  // identity after binding, when started as root
  gid_t gid = 1337;
  int workers = 1;          // event-loop threads, each with SO_REUSEPORT listeners when > 1
  uint16_t stats_port = 0;  // Prometheus text on [::]:<port>, IPv4 mapped; 0: off
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds idle_timeout{3600 * 1000};
  std::chrono::milliseconds drain_timeout{5000};
  SpliceMode splice = SpliceMode::automatic;
  uint32_t pipe_size = 1 << 20;  // F_SETPIPE_SZ for splice pipes
  int max_connections = 0;       // 0: derived from RLIMIT_NOFILE
  bool access_log = true;        // one log line per connection
  LogLevel log_level = LogLevel::info;
  bool log_as_json = false;
};

}  // namespace snare::proxy
