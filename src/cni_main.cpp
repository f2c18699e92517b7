// snare-cni's main: istio-cni's plugin (when run as `istio-cni` by a container runtime), and its
// print-flags and install commands (cni/cni_cli.h).
#include "cni/cni_cli.h"

int main(int argc, char** argv) { return snare::cni::cni_cli(argc, argv); }
