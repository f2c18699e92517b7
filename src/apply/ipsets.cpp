// The plan's ipsets around the iptables apply, cleanup and verify (see ipsets.h).
#include "apply/ipsets.h"

#include <fmt/format.h>

#include "base/log.h"
#include "ext/forms.h"

namespace snare {
namespace {

std::string family_word(Family f) { return f == Family::v4 ? "inet" : "inet6"; }

std::string definition_of(const IpsetInfo& info) {
  return fmt::format("{} family {}{}", info.type, info.family, info.comment ? " comment" : "");
}

// Whether the set exists as istio-cni creates it. `found` false: there is none.
Status check_set(IpsetOps& ipsets, const IpSet& set, bool& found, bool& same, std::string& have) {
  IpsetInfo info;
  if (Status s = ipsets.get(set.name, found, info); !s.ok()) return s;
  have = found ? definition_of(info) : "";
  same = found && have == ipset_definition(set);
  return Status::Ok();
}

Status refuse_definition(const IpSet& set, const std::string& have) {
  return Status::Fail(fmt::format(
      "ipset {} exists as {}, not as the {} the probe rules need (istio-cni's): remove it first "
      "(`ipset destroy {}`, after the rules that use it) or let istio-cni own this node",
      set.name, have, ipset_definition(set), set.name));
}

// Creates the used sets that are missing; `created` lists them (for the rollback).
Status ensure_sets(const Plan& plan, IpsetOps& ipsets, std::vector<std::string>& created) {
  for (const IpSet& set : plan.sets) {
    if (!set.used) continue;
    bool found = false, same = false;
    std::string have;
    if (Status s = check_set(ipsets, set, found, same, have); !s.ok()) return s;
    if (found && !same) return refuse_definition(set, have);
    if (found) continue;
    if (Status s = ipsets.create(set.name, set.family); !s.ok()) return s;
    created.push_back(set.name);
  }
  return Status::Ok();
}

// The sets this apply created, when its rules failed: nothing references them yet.
std::string remove_created(IpsetOps& ipsets, const std::vector<std::string>& created) {
  std::string out;
  for (const std::string& name : created)
    if (Status s = ipsets.destroy(name); !s.ok()) out += "; " + s.error;
  return out.empty() && !created.empty() ? "; the ipsets it created removed" : out;
}

// The plan with the indices of its sets in this namespace.
Plan resolved(const Plan& plan, IpsetOps& ipsets) {
  Plan out = plan;
  resolve_kernel_ids(out, kernel_ids(ipsets));
  return out;
}

}  // namespace

std::string ipset_definition(const IpSet& set) {
  return fmt::format("hash:ip family {} comment", family_word(set.family));
}

Status apply_with_ipsets(const Config& cfg, const Plan& plan, ApplyEnv& env, IpsetOps& ipsets,
                         ApplyReport& rep) {
  std::vector<std::string> created;
  if (Status s = ensure_sets(plan, ipsets, created); !s.ok())
    return Status::Fail(s.error + remove_created(ipsets, created));
  rep.changed |= !created.empty();
  for (const std::string& name : created) rep.committed.push_back("ipset/" + name);
  const Plan with_ids = resolved(plan, ipsets);
  Status s = apply_plan(cfg, with_ids, env, rep);
  if (s.ok()) return s;
  return Status::Fail(s.error + remove_created(ipsets, created));
}

Status cleanup_with_ipsets(const Config& cfg, const Plan& plan, ApplyEnv& env, IpsetOps& ipsets,
                           ApplyReport& rep) {
  const Plan with_ids = resolved(plan, ipsets);
  if (Status s = cleanup_plan(cfg, with_ids, env, rep); !s.ok()) return s;
  // After the rules: the kernel refuses to destroy a set a rule references.
  for (const IpSet& set : plan.sets) {
    bool found = false;
    IpsetInfo info;
    if (Status s = ipsets.get(set.name, found, info); !s.ok()) return s;
    if (!found) continue;
    if (Status s = ipsets.destroy(set.name); !s.ok()) {
      log_warn("rules removed; ipset {} stays: {} (another rule still uses it)", set.name, s.error);
      continue;
    }
    rep.committed.push_back("ipset/" + set.name);
    rep.changed = true;
  }
  return Status::Ok();
}

int verify_with_ipsets(const Config& cfg, const Plan& plan, ApplyEnv& env, IpsetOps& ipsets,
                       std::string& diff, std::string& error) {
  std::string sets;
  for (const IpSet& set : plan.sets) {
    if (!set.used) continue;
    bool found = false, same = false;
    std::string have;
    if (Status s = check_set(ipsets, set, found, same, have); !s.ok()) {
      error = s.error;
      return 2;
    }
    if (same) continue;
    if (found) sets += fmt::format("-create {} {}\n", set.name, have);
    sets += fmt::format("+create {} {}\n", set.name, ipset_definition(set));
  }
  if (!sets.empty()) sets = "# ipsets\n" + sets;
  const Plan with_ids = resolved(plan, ipsets);
  int rc = verify_plan(cfg, with_ids, env, diff, error);
  if (rc == 2 || sets.empty()) return rc;
  diff = sets + diff;
  return 1;
}

}  // namespace snare
