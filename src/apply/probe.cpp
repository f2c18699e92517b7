// The probe sets' membership (see probe.h).
#include "apply/probe.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "config/config.h"

namespace snare {
namespace {

const char* set_of(const ProbeRequest& req) { return req.ip.v6 ? kProbeSetV6 : kProbeSetV4; }

bool same_ip(const std::string& text, const IpAddr& ip) {
  Parsed<IpAddr> p = parse_ip(text);
  return p.ok() && p.value.v6 == ip.v6 && p.value.bytes == ip.bytes;
}

struct Found {
  bool there = false;
  std::string comment;
};

// What add and del decide from the member that is there (if any); `change` false: nothing to do.
std::string decide(const ProbeRequest& req, const Found& f, bool& change) {
  const std::string ip = req.ip.text(), set = set_of(req);
  change = false;
  if (req.add) {
    change = !f.there || f.comment != req.pod_uid;
    if (!f.there) return fmt::format("{} added to {} for pod {}", ip, set, req.pod_uid);
    if (!change) return fmt::format("{} is in {} for pod {} already", ip, set, req.pod_uid);
    return fmt::format("{} in {} now for pod {} (it was pod {}'s)", ip, set, req.pod_uid,
                       f.comment.empty() ? "<no UID>" : f.comment);
  }
  if (!f.there) return fmt::format("{} is not in {}: nothing to remove", ip, set);
  change = f.comment == req.pod_uid;
  if (change) return fmt::format("{} removed from {} (pod {})", ip, set, req.pod_uid);
  return fmt::format(
      "{} stays in {}: it belongs to pod {}, not {} (a newer pod reused the IP); nothing removed",
      ip, set, f.comment.empty() ? "<no UID>" : f.comment, req.pod_uid);
}

Status missing_set(const std::string& where, const char* set) {
  return Status::Fail(fmt::format("{} {} does not exist: `snare ambient-host{}` creates it", where,
                                  set, where == "ipset" ? "" : " --native-nftables"));
}

constexpr const char* kTable = "istio-ambient-nat";

// The set's member for the IP, from the table's JSON listing; `set_there` false without the set.
Status nft_member(NftBackend& nft, const ProbeRequest& req, bool& set_there, Found& f) {
  std::vector<std::string> names;
  std::map<std::string, uint32_t> flags;
  set_there = false;
  if (Status s = nft.inet_tables(names, flags); !s.ok()) return s;
  if (std::find(names.begin(), names.end(), kTable) == names.end()) return Status::Ok();
  std::string text;
  if (Status s = nft.list_table(kTable, true, text); !s.ok()) return s;
  const nlohmann::json listing = nlohmann::json::parse(text, nullptr, false);
  if (listing.is_discarded() || !listing.contains("nftables"))
    return Status::Fail("libnftables' JSON listing of inet istio-ambient-nat did not parse");
  for (const auto& item : listing["nftables"]) {
    if (!item.contains("set") || item["set"].value("name", "") != set_of(req)) continue;
    set_there = true;
    for (const auto& e : item["set"].value("elem", nlohmann::json::array())) {
      const auto& el = e.is_object() && e.contains("elem") ? e["elem"] : e;
      const nlohmann::json val = el.is_object() ? el.value("val", nlohmann::json()) : el;
      if (!val.is_string() || !same_ip(val.get<std::string>(), req.ip)) continue;
      f.there = true;
      f.comment = el.is_object() ? el.value("comment", "") : "";
    }
  }
  return Status::Ok();
}

}  // namespace

Status probe_ipsets(const ProbeRequest& req, IpsetOps& ipsets, std::string& said) {
  bool found = false;
  IpsetInfo info;
  if (Status s = ipsets.get(set_of(req), found, info); !s.ok()) return s;
  if (!found) return missing_set("ipset", set_of(req));
  Found f;
  for (const IpsetMember& m : info.members)
    if (same_ip(m.ip, req.ip)) f = {true, m.comment};
  bool change = false;
  said = decide(req, f, change);
  if (!change) return Status::Ok();
  // add: the kernel replaces the comment of a member that is there (-exist).
  return req.add ? ipsets.add(set_of(req), req.ip.text(), req.pod_uid)
                 : ipsets.del(set_of(req), req.ip.text());
}

Status probe_nft(const ProbeRequest& req, NftBackend& nft, std::string& said) {
  bool set_there = false;
  Found f;
  if (Status s = nft_member(nft, req, set_there, f); !s.ok()) return s;
  if (!set_there) return missing_set(fmt::format("nftables set inet {}", kTable), set_of(req));
  bool change = false;
  said = decide(req, f, change);
  if (!change) return Status::Ok();
  // nft keeps the comment of an element that is there: a new UID replaces it in one transaction.
  const std::string where = fmt::format("inet {} {}", kTable, set_of(req));
  std::string tx;
  if (f.there) tx += fmt::format("delete element {} {{ {} }}\n", where, req.ip.text());
  if (req.add)
    tx +=
        fmt::format("add element {} {{ {} comment \"{}\" }}\n", where, req.ip.text(), req.pod_uid);
  bool committed = false;
  return nft.run(tx, committed);
}

}  // namespace snare
