// verify's exit-code rule, one for both backends (apply.h's verify_plan, nft_apply.h's
// nft_verify_plan): 0 the kernel does what the flags say, 1 drift, 2 trouble (it could not check).
// Internal to src/apply/.
#pragma once

#include <string>

#include "base/status.h"
#include "config/config.h"
#include "kernel/routes.h"
#include "model/rule.h"

namespace snare {

// The end of either backend's verify: after the tables' part (`tables` its status), the routing
// half (TPROXY's rule and route, ::6 on lo, earlier istio routes) when `routes` is given; then the
// exit code: 0 same, 1 drift (in `diff`), 2 trouble (in `error`).
int verify_outcome(Status tables, const Config& cfg, const Plan& plan, RouteOps* routes,
                   std::string& diff, std::string& error);

}  // namespace snare
