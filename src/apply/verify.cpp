// verify's exit-code rule (see verify.h).
#include "apply/verify.h"

#include "apply/routing.h"

namespace snare {

int verify_outcome(Status s, const Config& cfg, const Plan& plan, RouteOps* routes,
                   std::string& diff, std::string& error) {
  // Trouble wins over drift: a part that could not be read may hide more difference.
  if (s.ok() && routes) s = routes_drift(cfg, plan, *routes, diff);
  if (!s.ok()) {
    error = s.error;
    return 2;
  }
  return diff.empty() ? 0 : 1;
}

}  // namespace snare
