// The owner match (see owner.h).
#include "ext/owner.h"

#include <fmt/format.h>
#include <linux/netfilter/xt_owner.h>

#include <cstring>

#include "base/parse.h"
#include "ext/nft_json.h"

namespace snare {

void Ext<OwnerMatch>::restore(const OwnerMatch& m, std::string& out) {
  fmt::format_to(std::back_inserter(out), "-m owner {}{} {}", m.invert ? "! " : "",
                 m.gid ? "--gid-owner" : "--uid-owner", m.id);
}

void Ext<OwnerMatch>::save(const OwnerMatch& m, SaveContext&, std::string& out) { restore(m, out); }

Status Ext<OwnerMatch>::encode(const OwnerMatch& m, EntryWriter& w) {
  // Names were resolved before the apply (System::resolve_names): the kernel stores numbers.
  auto id = parse_u32(m.id);
  if (!id.ok() || m.id.rfind("0x", 0) == 0)
    return Status::Fail(fmt::format("owner id '{}' is not numeric", m.id));
  xt_owner_match_info info{};
  const uint8_t bit = m.gid ? XT_OWNER_GID : XT_OWNER_UID;
  if (m.gid)
    info.gid_min = info.gid_max = id.value;
  else
    info.uid_min = info.uid_max = id.value;
  info.match = bit;
  info.invert = m.invert ? bit : 0;
  std::memcpy(w.add_match("owner", 1, sizeof info), &info, sizeof info);
  return Status::Ok();
}

bool Ext<OwnerMatch>::decode(Family, const XtView& xt, DecodedRule& d) {
  if (xt.size < sizeof(xt_owner_match_info)) return false;
  xt_owner_match_info o;
  std::memcpy(&o, xt.data, sizeof o);
  if (o.match == XT_OWNER_UID && o.uid_min == o.uid_max && (o.invert & ~XT_OWNER_UID) == 0) {
    d.rule.matches.push_back(OwnerMatch{false, o.invert != 0, std::to_string(o.uid_min)});
    return true;
  }
  if (o.match == XT_OWNER_GID && o.gid_min == o.gid_max && (o.invert & ~XT_OWNER_GID) == 0) {
    d.rule.matches.push_back(OwnerMatch{true, o.invert != 0, std::to_string(o.gid_min)});
    return true;
  }
  if (o.match == XT_OWNER_SOCKET && o.invert == 0) {
    d.rule.matches.push_back(SocketOwnerMatch{});
    return true;
  }
  return false;
}

void Ext<SocketOwnerMatch>::restore(const SocketOwnerMatch&, std::string& out) {
  out += "-m owner --socket-exists";
}

void Ext<SocketOwnerMatch>::save(const SocketOwnerMatch& m, SaveContext&, std::string& out) {
  restore(m, out);
}

Status Ext<SocketOwnerMatch>::encode(const SocketOwnerMatch&, EntryWriter& w) {
  xt_owner_match_info info{};
  info.match = XT_OWNER_SOCKET;
  std::memcpy(w.add_match("owner", 1, sizeof info), &info, sizeof info);
  return Status::Ok();
}

// nftables has no --socket-exists (istio's nftables host rule tests `skuid` instead); the closest
// test is that the packet has an owning socket with any UID.
void Ext<SocketOwnerMatch>::nft(const SocketOwnerMatch&, const NftContext&, std::string& out) {
  out += "meta skuid 0-4294967295";
}

void Ext<SocketOwnerMatch>::nft_expr(const SocketOwnerMatch&, const NftContext&, Json& out) {
  Json range = Json::object();
  range["range"] = Json::array({0, 4294967295u});
  out.push_back(nft::match(false, nft::meta("skuid"), std::move(range)));
}

// nftables: `skuid 1337`, `skgid != java` (nft resolves names), `meta skuid` in istio's raw rules.
void Ext<OwnerMatch>::nft(const OwnerMatch& m, const NftContext&, std::string& out) {
  fmt::format_to(std::back_inserter(out), "{}{}{} {}", m.nft_meta ? "meta " : "",
                 m.gid ? "skgid" : "skuid", m.invert ? " !=" : "", m.id);
}

void Ext<OwnerMatch>::nft_expr(const OwnerMatch& m, const NftContext&, Json& out) {
  out.push_back(nft::match(m.invert, nft::meta(m.gid ? "skgid" : "skuid"), nft::number(m.id)));
}

}  // namespace snare
