// Logging sink: stderr, text or JSON (see log.h).
#include "base/log.h"

#include <sys/time.h>

#include <cstdio>
#include <ctime>
#include <mutex>

namespace snare {
namespace {

LogLevel g_level = LogLevel::info;
bool g_json = false;
std::mutex g_mu;
std::string g_last_error;  // guarded by g_mu

const char* level_name(LogLevel l) {
  switch (l) {
    case LogLevel::debug:
      return "debug";
    case LogLevel::info:
      return "info";
    case LogLevel::warn:
      return "warn";
    case LogLevel::error:
      return "error";
    case LogLevel::none:
      return "none";
  }
  return "info";
}

std::string json_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string timestamp() {
  timeval tv{};
  gettimeofday(&tv, nullptr);
  tm t{};
  gmtime_r(&tv.tv_sec, &t);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", t.tm_year + 1900, t.tm_mon + 1,
                     t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, tv.tv_usec / 1000);
}

}  // namespace

void log_configure(LogLevel level, bool json) {
  g_level = level;
  g_json = json;
}

bool log_enabled(LogLevel level) {
  // Errors always print: a failed apply must say why even with --log_output_level=none.
  if (level == LogLevel::error) return true;
  return g_level != LogLevel::none && static_cast<int>(level) >= static_cast<int>(g_level);
}

void log_record_error(std::string_view msg) {
  std::lock_guard<std::mutex> lock(g_mu);
  g_last_error = msg;
}

std::string log_last_error() {
  std::lock_guard<std::mutex> lock(g_mu);
  return g_last_error;
}

void log_line(LogLevel level, std::string_view msg, const LogFields& fields) {
  if (level == LogLevel::error) log_record_error(msg);
  if (!log_enabled(level)) return;
  std::string line;
  if (g_json) {
    line = fmt::format(R"({{"time":"{}","level":"{}","msg":"{}")", timestamp(), level_name(level),
                       json_escape(msg));
    for (const auto& [k, v] : fields)
      line += fmt::format(R"(,"{}":"{}")", json_escape(k), json_escape(v));
    line += "}\n";
  } else {
    line = fmt::format("{} {} {}", timestamp(), level_name(level), msg);
    for (const auto& [k, v] : fields) line += fmt::format(" {}={}", k, v);
    line += "\n";
  }
  std::lock_guard<std::mutex> lock(g_mu);
  std::fputs(line.c_str(), stderr);
}

}  // namespace snare
