// iptables mode with IP sets (ambient-host's probe sets, model/rule.h's IpSet): apply, cleanup
// and verify of apply.h around the plan's ipsets, over the IpsetOps seam (kernel/ipset.h).
//
// x_tables keeps a set match's set by its index in the namespace's ip_set table, so the sets come
// first: an apply creates the used sets that are missing (as istio-cni does: `hash:ip` with
// comments, -exist semantics; an existing set of another definition is an error naming it and
// what to do), then looks up their indices for the rules (ext/forms.h's resolve_kernel_ids) and
// applies. If the rules fail, the sets this apply created go again: all or nothing. Members are
// never touched: they are istio-cni's agent's (or `snare ambient-host probe`'s).
//
// Cleanup removes the rules first (a set a rule references cannot be destroyed), then every set
// of the plan that exists, members and all, as istio-cni's agent does when it shuts down with
// cleanup. A set a foreign rule still references stays, with a warning naming it. Verify reports
// a used set that is missing, or of another definition, as drift (`+create NAME hash:ip family
// inet comment`, ipset's save form); the rules that would reference it then differ too.
#pragma once

#include <string>

#include "apply/apply.h"
#include "kernel/ipset.h"

namespace snare {

Status apply_with_ipsets(const Config& cfg, const Plan& plan, ApplyEnv& env, IpsetOps& ipsets,
                         ApplyReport& rep);
Status cleanup_with_ipsets(const Config& cfg, const Plan& plan, ApplyEnv& env, IpsetOps& ipsets,
                           ApplyReport& rep);
int verify_with_ipsets(const Config& cfg, const Plan& plan, ApplyEnv& env, IpsetOps& ipsets,
                       std::string& diff, std::string& error);

// `hash:ip family inet comment`: the definition istio-cni gives a probe set.
std::string ipset_definition(const IpSet& set);

}  // namespace snare
