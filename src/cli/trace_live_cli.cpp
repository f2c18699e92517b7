// `snare trace --live`: the simulation's answer, then the kernel's (see cli.h, trace/live.h).
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

#include "base/log.h"
#include "cli/cli.h"
#include "trace/report.h"

namespace snare {

int print_live_trace(const TraceResult& sim, const LiveOptions& o, bool json,
                     const Commands& cmds) {
  int signal = 0;
  LiveResult live;
  if (cmds.live_trace)
    live = cmds.live_trace(o, signal);
  else
    live.error = "this build has no live trace";
  if (live.error.empty()) compare_live(sim, o.packet, live);
  if (json) {
    std::fputs(trace_json(sim, live_json(live)).c_str(), stdout);
  } else {
    std::fputs(trace_text(sim).c_str(), stdout);
    std::fputs("\n", stdout);
    std::fputs(live_text(live, ::isatty(STDOUT_FILENO) == 1).c_str(), stdout);
  }
  std::fflush(stdout);
  if (signal) return 128 + signal;
  if (!live.error.empty()) {
    log_record_error(live.error);
    std::fprintf(stderr, "snare: error: snare trace --live: %s\n", live.error.c_str());
    return 1;
  }
  return live.disagreements.empty() ? 0 : 3;
}

}  // namespace snare
