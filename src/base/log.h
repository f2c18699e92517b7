// Logging: every log line goes to stderr (stdout carries rule text only), as text or JSON.
//
// One process-wide sink, configured once by the main from --log_output_level and --log_as_json.
// A line is a message plus optional key/value fields, e.g.
//   text: `2026-11-26T03:00:00.123Z info applied rules tables=nat,mangle ms=3.2`
//   json: `{"time":"...","level":"info","msg":"applied rules","tables":"nat,mangle","ms":"3.2"}`
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace snare {

enum class LogLevel { debug, info, warn, error, none };

using LogFields = std::vector<std::pair<std::string, std::string>>;

void log_configure(LogLevel level, bool json);
bool log_enabled(LogLevel level);
void log_line(LogLevel level, std::string_view msg, const LogFields& fields = {});

// The last error line of this process (logged or not): what a CNI plugin puts in its error
// object, where the rule commands report failures by logging them. `log_record_error` notes one
// that was printed another way.
void log_record_error(std::string_view msg);
std::string log_last_error();

template <typename... Args>
void log_debug(fmt::format_string<Args...> f, Args&&... args) {
  if (log_enabled(LogLevel::debug))
    log_line(LogLevel::debug, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void log_info(fmt::format_string<Args...> f, Args&&... args) {
  if (log_enabled(LogLevel::info))
    log_line(LogLevel::info, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void log_warn(fmt::format_string<Args...> f, Args&&... args) {
  if (log_enabled(LogLevel::warn))
    log_line(LogLevel::warn, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void log_error(fmt::format_string<Args...> f, Args&&... args) {
  log_line(LogLevel::error, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace snare
