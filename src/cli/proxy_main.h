// `snare proxy`: the command-line entry of the transparent relay.
#pragma once

namespace snare {

// argv[0] is "proxy". Returns the exit code: 0 after a clean drain, 2 for a bad flag (one line on
// stderr naming flag and value), 1 when start-up fails.
int proxy_main(int argc, char** argv);

}  // namespace snare
