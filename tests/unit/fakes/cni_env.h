// web_add_env: the CNI_* environment a container runtime gives the plugin for an ADD of pod
// default/web on eth0 (the pod the CNI tests' fake API server answers for).
#pragma once

#include "cni/plugin.h"

namespace snare::cni::testing {

inline CniEnv web_add_env() {
  return CniEnv{"ADD",
                "c1",
                "/run/netns/p1",
                "eth0",
                "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web",
                "/opt/cni/bin"};
}

}  // namespace snare::cni::testing
