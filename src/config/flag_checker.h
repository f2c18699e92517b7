// FlagChecker: raw flag values (RawFlags or AmbientRawFlags, indexed by their flag enum) checked
// and converted through the parsers of base/parse.h; the first error wins and names the flag or
// variable and the value. Also the run options (target namespace, output, logging) that the
// sidecar and the ambient commands share, checked the same way for both flag tables.
#pragma once

#include <fmt/format.h>

#include <string>
#include <utility>

#include "base/parse.h"
#include "config/config.h"

namespace snare {

template <typename Raw, typename F>
class FlagChecker {
 public:
  explicit FlagChecker(const Raw& raw) : raw_(raw) {}
  const std::string& str(F f) const { return raw_[f].value; }
  bool given(F f) const { return raw_[f].given; }
  const std::string& source(F f) const { return raw_[f].source; }

  void fail(F f, const std::string& why) {
    if (error_.empty()) error_ = fmt::format("{}: {}", raw_[f].source, why);
  }
  // The value of a parser's result, or T{} after recording its error.
  template <typename T>
  T take(F f, Parsed<T> p) {
    if (!p.ok()) fail(f, p.error);
    return std::move(p.value);
  }
  bool boolean(F f) { return take(f, parse_bool(str(f))); }
  const std::string& error() const { return error_; }

 private:
  const Raw& raw_;
  std::string error_;
};

// Each command's ids of the run options both kinds of command take.
template <typename F>
struct RunFlagIds {
  F dry_run, output_format, network_namespace, netns_pid, log_output_level, log_as_json;
};

// --dry-run, --output-format, and where the rules go: --network-namespace or --netns-pid.
template <typename K, typename F>
void target_options(K& k, const RunFlagIds<F>& id, Config& c) {
  c.dry_run = k.boolean(id.dry_run);
  const std::string& format = k.str(id.output_format);
  if (format == "restore" || format == "save")
    c.output_format = format == "save" ? OutputFormat::save : OutputFormat::restore;
  else
    k.fail(id.output_format,
           fmt::format("\"{}\" is not an output format (restore or save)", format));
  c.network_namespace = k.str(id.network_namespace);
  if (const std::string& pid = k.str(id.netns_pid); !pid.empty()) {
    auto v = parse_u32(pid);
    // The kernel's largest PID (PID_MAX_LIMIT) bounds what can name a process.
    if (!v.ok() || v.value == 0 || v.value > 4194304)
      k.fail(id.netns_pid, fmt::format("\"{}\" is not a process ID", pid));
    c.netns_pid = static_cast<int>(v.value);
    if (!c.network_namespace.empty())
      k.fail(id.netns_pid, "give either --network-namespace or --netns-pid, not both");
  }
}

// --log_output_level and --log_as_json.
template <typename K, typename F>
void log_options(K& k, const RunFlagIds<F>& id, Config& c) {
  c.log_level = k.take(id.log_output_level, parse_log_level(k.str(id.log_output_level)));
  c.log_as_json = k.boolean(id.log_as_json);
}

}  // namespace snare
