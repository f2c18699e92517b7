// A trace's answer as text (a one-line summary, then the path) and as one JSON object.
#pragma once

#include <string>

#include "trace/trace.h"

namespace snare {

// "captured: REDIRECT to :15001, original destination 10.96.0.10:80, by nat OUTPUT rule 1 ->
// ISTIO_OUTPUT rule 9 -> ISTIO_REDIRECT rule 1"; "not captured: ..."; "dropped by ...";
// prefixed with "uncertain: " when a rule on the way could not be evaluated.
std::string trace_summary(const TraceResult& r);

// The summary, then every step of the path, one line each, indented by chain depth.
std::string trace_text(const TraceResult& r);

// { "summary", "captured", "action", "to_port", "original_destination", "mark", "ctmark",
//   "zone", "uncertain", "error", "path": [{hook, table, chain, position, rule, matched, why}] }
// With `live` (a JSON object: trace/live.h's live_json), also "live": the kernel's answer.
std::string trace_json(const TraceResult& r, const std::string& live = {});

// "redirect", "tproxy", "snat", "dnat", "drop", "accept" (an ACCEPT verdict, nothing mapped) or
// "none" (the packet passed every chain to its policy).
const char* trace_action(const TraceResult& r);

}  // namespace snare
