// snare's main: wires the kernel-facing commands into the CLI. Everything else is in the library.
#include <cstdio>

#include "apply.h"
#include "cli.h"

namespace {

int missing(const char* what) {
  std::fprintf(stderr, "snare: error: %s is not built into this binary yet\n", what);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  snare::Commands cmds;
  cmds.apply = snare::apply_rules;
  cmds.cleanup = snare::cleanup_rules;
  cmds.verify = snare::verify_rules;
  cmds.validate = [](const snare::Config&) { return missing("--run-validation"); };
  cmds.proxy = [](int, char**) { return missing("proxy"); };
  return snare::run_cli(argc, argv, cmds);
}
