// Proxy: the `snare proxy` process: listeners, identity, workers, signals.
#pragma once

#include "proxy/proxy_options.h"

namespace snare::proxy {

// Binds, drops privileges, runs the workers until SIGTERM/SIGINT and the drain that follows.
// Returns the process exit code (0 after a drain, 1 when start-up failed, with the error logged).
int run_proxy(const ProxyOptions& options);

}  // namespace snare::proxy
