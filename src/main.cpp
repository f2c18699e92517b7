// snare's main: the CLI with the kernel-facing Commands (cli/composition.h).
#include "cli/cli.h"
#include "cli/composition.h"

int main(int argc, char** argv) { return snare::run_cli(argc, argv, snare::make_commands()); }
