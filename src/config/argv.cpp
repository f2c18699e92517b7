// pflag's command-line grammar (see argv.h), after spf13/pflag's parseLongArg and
// parseSingleShortArg.
#include "config/argv.h"

#include <fmt/format.h>

#include <algorithm>

namespace snare {
namespace {

class Parser {
 public:
  Parser(std::span<const OptionSpec> options, const std::vector<std::string>& args)
      : options_(options), args_(args) {
    out_.values.resize(options.size());
  }

  ArgvResult run() {
    for (pos_ = 0; pos_ < args_.size() && out_.error.empty();) {
      const std::string& a = args_[pos_++];
      if (a == "--") {
        if (pos_ < args_.size()) fail(fmt::format("unexpected argument \"{}\"", args_[pos_]));
        break;
      }
      if (a.size() > 2 && a[0] == '-' && a[1] == '-') {
        long_arg(std::string_view(a).substr(2));
      } else if (a.size() > 1 && a[0] == '-') {
        short_args(std::string_view(a).substr(1));
      } else {
        fail(fmt::format("unexpected argument \"{}\" (flags only; values go after their flag)", a));
      }
    }
    return std::move(out_);
  }

 private:
  void fail(std::string why) {
    if (out_.error.empty()) out_.error = std::move(why);
  }

  const OptionSpec* by_name(std::string_view name, size_t& index) const {
    for (index = 0; index < options_.size(); ++index)
      if (options_[index].name == name) return &options_[index];
    return nullptr;
  }
  const OptionSpec* by_short(char c, size_t& index) const {
    for (index = 0; index < options_.size(); ++index)
      if (options_[index].short_name == c) return &options_[index];
    return nullptr;
  }

  bool builtin(std::string_view name) {
    if (name == "help" || name == "h") return out_.help = true;
    if (name == "version") return out_.version = true;
    return false;
  }

  // --name, --name=value, --name value.
  void long_arg(std::string_view arg) {
    const size_t eq = arg.find('=');
    const std::string_view name = arg.substr(0, eq);
    size_t i = 0;
    const OptionSpec* o = by_name(name, i);
    if (!o) {
      if (eq == std::string_view::npos && builtin(name)) return;
      return fail(fmt::format("unknown flag: --{}", name));
    }
    if (eq != std::string_view::npos) {
      out_.values[i] = std::string(arg.substr(eq + 1));
    } else if (o->is_bool) {
      out_.values[i] = "true";
    } else if (pos_ < args_.size()) {
      out_.values[i] = args_[pos_++];
    } else {
      fail(fmt::format("flag needs an argument: --{}", name));
    }
  }

  // -abc (booleans), -n value, -n=value, -nvalue.
  void short_args(std::string_view shorts) {
    while (!shorts.empty() && out_.error.empty()) {
      const char c = shorts[0];
      size_t i = 0;
      const OptionSpec* o = by_short(c, i);
      if (!o) {
        if (c == 'h') {
          out_.help = true;
          shorts.remove_prefix(1);
          continue;
        }
        return fail(fmt::format("unknown shorthand flag: '{}' in -{}", c, shorts));
      }
      if (shorts.size() > 2 && shorts[1] == '=') {
        out_.values[i] = std::string(shorts.substr(2));
        return;
      }
      if (o->is_bool) {
        out_.values[i] = "true";
        shorts.remove_prefix(1);
      } else if (shorts.size() > 1) {
        out_.values[i] = std::string(shorts.substr(1));
        return;
      } else if (pos_ < args_.size()) {
        out_.values[i] = args_[pos_++];
        return;
      } else {
        return fail(fmt::format("flag needs an argument: -{}", c));
      }
    }
  }

  std::span<const OptionSpec> options_;
  const std::vector<std::string>& args_;
  size_t pos_ = 0;
  ArgvResult out_;
};

}  // namespace

ArgvResult parse_argv(std::span<const OptionSpec> options, const std::vector<std::string>& args) {
  return Parser(options, args).run();
}

namespace {

constexpr size_t kHelpColumn = 44;
constexpr size_t kHelpWidth = 100;

// `text` in lines of at most kHelpWidth columns, each but the first indented to kHelpColumn.
std::string wrap(const std::string& text) {
  std::string out, line;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    const std::string word = text.substr(start, end - start);
    if (!line.empty() && kHelpColumn + line.size() + 1 + word.size() > kHelpWidth) {
      out += line + "\n" + std::string(kHelpColumn, ' ');
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
    start = end + 1;
  }
  return out + line;
}

}  // namespace

std::string options_help(std::span<const OptionSpec> options,
                         const std::vector<std::string>& extra) {
  std::string out;
  for (size_t i = 0; i < options.size(); ++i) {
    const OptionSpec& o = options[i];
    std::string left = o.short_name ? fmt::format("  -{}, --{}", o.short_name, o.name)
                                    : fmt::format("      --{}", o.name);
    if (!o.value_name.empty()) left += fmt::format(" {}", o.value_name);
    const std::string text = wrap(std::string(o.help) + (i < extra.size() ? extra[i] : ""));
    if (left.size() < kHelpColumn)
      out += fmt::format("{:<{}}{}\n", left, kHelpColumn, text);
    else
      out += fmt::format("{}\n{:<{}}{}\n", left, "", kHelpColumn, text);
  }
  return out;
}

}  // namespace snare
