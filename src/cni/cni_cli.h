// snare-cni's command line: with CNI_COMMAND set (how a container runtime runs `istio-cni`), the
// CNI protocol on stdin/stdout (plugin.h); `print-flags` shows the snare flags a pod resolves to,
// for `snare verify` from the node; `install` puts the plugin in a node's CNI bin directory.
#pragma once

namespace snare::cni {

int cni_cli(int argc, char** argv);

}  // namespace snare::cni
