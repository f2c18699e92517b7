// snare's main: wires the kernel-facing commands into the CLI. Everything else is in the library.
#include <cstdio>

#include "cli.h"

namespace {

int missing(const char* what) {
  std::fprintf(stderr, "snare: error: %s is not built into this binary yet\n", what);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  snare::Commands cmds;
  cmds.apply = [](const snare::Config&, const snare::Plan&) { return missing("apply"); };
  cmds.cleanup = [](const snare::Config&, const snare::Plan&) { return missing("cleanup"); };
  cmds.verify = [](const snare::Config&, const snare::Plan&) { return missing("verify"); };
  cmds.validate = [](const snare::Config&) { return missing("--run-validation"); };
  cmds.proxy = [](int, char**) { return missing("proxy"); };
  return snare::run_cli(argc, argv, cmds);
}
