// Interfaces whose traffic istio leaves alone (-c) or treats as outbound (-k).
#include "builder/emitter.h"

namespace snare::build {

// S1: excluded interfaces are never captured, in either direction; these come first so that no
// later rule sees their packets. In TPROXY mode mangle captures inbound, so it skips them too.
void exclude_interfaces(const Config& cfg, Emitter& e) {
  for (const auto& nic : cfg.exclude_interfaces) {
    e.both(Table::nat, "PREROUTING", {in_if(nic)}, jump("RETURN"));
    e.both(Table::nat, "OUTPUT", {out_if(nic)}, jump("RETURN"));
  }
  if (cfg.mode != InterceptMode::tproxy) return;
  for (const auto& nic : cfg.exclude_interfaces) {
    e.both(Table::mangle, "PREROUTING", {in_if(nic)}, jump("RETURN"));
    e.both(Table::mangle, "OUTPUT", {out_if(nic)}, jump("RETURN"));
  }
}

// S2: traffic arriving on a rerouted virtual interface (KubeVirt) is not inbound traffic. Each
// goes to the head of the chain (`-I 1`), as istio does.
void kube_virt_returns(const Config& cfg, Emitter& e) {
  for (const auto& nic : cfg.reroute_interfaces)
    e.both(Table::nat, "PREROUTING", {in_if(nic)}, jump("RETURN"), 1);
}

}  // namespace snare::build
