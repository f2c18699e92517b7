// nftables detection over netlink with libmnl + libnftnl (see nft_detect.h).
#include "kernel/nft_detect.h"

#include <fmt/format.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <array>
#include <ctime>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "model/netlink_form.h"

namespace snare {
namespace {

// The tables iptables-nft, ip6tables-nft, arptables-nft and ebtables-nft create, by family.
bool xtables_table_name(uint32_t family, const std::string& name) {
  switch (family) {
    case NFPROTO_IPV4:
    case NFPROTO_IPV6:
      return name == "filter" || name == "nat" || name == "mangle" || name == "raw" ||
             name == "security";
    case NFPROTO_ARP:
      return name == "filter";
    case NFPROTO_BRIDGE:
      return name == "filter" || name == "nat" || name == "broute";
  }
  return false;
}

using Key = std::pair<uint32_t, std::string>;  // (family, table)

struct DumpState {
  std::map<Key, NftTableInfo> tables;
  std::vector<Key> order;  // tables in the kernel's order
  std::map<Key, bool> has_xt;
};

struct NftDel {
  void operator()(mnl_socket* s) const { mnl_socket_close(s); }
  void operator()(nftnl_table* t) const { nftnl_table_free(t); }
  void operator()(nftnl_chain* c) const { nftnl_chain_free(c); }
  void operator()(nftnl_rule* r) const { nftnl_rule_free(r); }
};

int table_cb(const nlmsghdr* nlh, void* data) {
  auto& st = *static_cast<DumpState*>(data);
  std::unique_ptr<nftnl_table, NftDel> t(nftnl_table_alloc());
  if (!t || nftnl_table_nlmsg_parse(nlh, t.get()) < 0) return MNL_CB_OK;
  uint32_t family = nftnl_table_get_u32(t.get(), NFTNL_TABLE_FAMILY);
  const char* name = nftnl_table_get_str(t.get(), NFTNL_TABLE_NAME);
  Key key{family, name ? name : ""};
  if (!st.tables.count(key)) {
    st.order.push_back(key);
    st.tables[key] = NftTableInfo{nl_family_name(family),
                                  key.second,
                                  0,
                                  0,
                                  false,
                                  nftnl_table_get_u32(t.get(), NFTNL_TABLE_FLAGS)};
  }
  return MNL_CB_OK;
}

int chain_cb(const nlmsghdr* nlh, void* data) {
  auto& st = *static_cast<DumpState*>(data);
  std::unique_ptr<nftnl_chain, NftDel> c(nftnl_chain_alloc());
  if (!c || nftnl_chain_nlmsg_parse(nlh, c.get()) < 0) return MNL_CB_OK;
  const char* table = nftnl_chain_get_str(c.get(), NFTNL_CHAIN_TABLE);
  Key key{nftnl_chain_get_u32(c.get(), NFTNL_CHAIN_FAMILY), table ? table : ""};
  auto it = st.tables.find(key);
  if (it != st.tables.end()) ++it->second.chains;
  return MNL_CB_OK;
}

int expr_cb(nftnl_expr* e, void* data) {
  const char* name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
  // "match" and "target" are the xtables compat expressions only iptables-nft emits; nft's own
  // "Warning: table ... is managed by iptables-nft" rests on the same test.
  if (name && (std::string_view(name) == "match" || std::string_view(name) == "target")) {
    *static_cast<bool*>(data) = true;
  }
  return 0;
}

int rule_cb(const nlmsghdr* nlh, void* data) {
  auto& st = *static_cast<DumpState*>(data);
  std::unique_ptr<nftnl_rule, NftDel> r(nftnl_rule_alloc());
  if (!r || nftnl_rule_nlmsg_parse(nlh, r.get()) < 0) return MNL_CB_OK;
  const char* table = nftnl_rule_get_str(r.get(), NFTNL_RULE_TABLE);
  Key key{nftnl_rule_get_u32(r.get(), NFTNL_RULE_FAMILY), table ? table : ""};
  auto it = st.tables.find(key);
  if (it == st.tables.end()) return MNL_CB_OK;
  ++it->second.rules;
  bool xt = false;
  nftnl_expr_foreach(r.get(), expr_cb, &xt);
  if (xt) it->second.iptables_nft = true;
  return MNL_CB_OK;
}

// One NLM_F_DUMP request of `type` for every family. Returns 0, or an errno value.
int dump(mnl_socket* nl, uint16_t type, mnl_cb_t cb, DumpState& st) {
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE * 4);  // room for several messages per read
  const uint32_t seq = static_cast<uint32_t>(std::time(nullptr)) + type;
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf.data(), type, NFPROTO_UNSPEC, NLM_F_DUMP, seq);
  if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) return errno;
  const uint32_t portid = mnl_socket_get_portid(nl);
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(nl, buf.data(), buf.size());
    if (n < 0) return errno;
    int rc = mnl_cb_run(buf.data(), static_cast<size_t>(n), seq, portid, cb, &st);
    if (rc < 0) return errno;
    if (rc == MNL_CB_STOP) return 0;
  }
}

}  // namespace

Status list_nft_tables(std::vector<NftTableInfo>& out) {
  out.clear();
  std::unique_ptr<mnl_socket, NftDel> nl(mnl_socket_open(NETLINK_NETFILTER));
  if (!nl) {
    // No nfnetlink in this kernel: then there are no nf_tables rules either.
    if (errno == EPROTONOSUPPORT || errno == EAFNOSUPPORT) return Status::Ok();
    return Status::Fail("nftables check: cannot open a netfilter netlink socket: " +
                        errno_text(errno));
  }
  if (mnl_socket_bind(nl.get(), 0, MNL_SOCKET_AUTOPID) < 0) {
    return Status::Fail("nftables check: cannot bind the netlink socket: " + errno_text(errno));
  }

  // A dump interrupted by a concurrent change (EINTR, NLM_F_DUMP_INTR) is simply run again.
  constexpr int kTries = 5;
  const std::array<std::pair<uint16_t, mnl_cb_t>, 3> steps{
      {{NFT_MSG_GETTABLE, table_cb}, {NFT_MSG_GETCHAIN, chain_cb}, {NFT_MSG_GETRULE, rule_cb}}};
  for (int attempt = 0;; ++attempt) {
    DumpState st;
    int err = 0;
    for (const auto& [type, cb] : steps) {
      err = dump(nl.get(), type, cb, st);
      // No table: no chain or rule either, and the usual answer costs one round trip.
      if (err || st.order.empty()) break;
    }
    if (err == EINTR && attempt + 1 < kTries) continue;
    if (err == ENOENT || err == EOPNOTSUPP || err == EPROTONOSUPPORT) return Status::Ok();
    if (err) return Status::Fail("nftables check: listing nf_tables failed: " + errno_text(err));
    for (const auto& key : st.order) {
      NftTableInfo info = st.tables[key];
      if (xtables_table_name(key.first, key.second)) info.iptables_nft = true;
      out.push_back(std::move(info));
    }
    return Status::Ok();
  }
}

std::string describe_nft_tables(const std::vector<NftTableInfo>& tables) {
  std::string out;
  for (const auto& t : tables) {
    if (!out.empty()) out += ", ";
    out += fmt::format("table {} {} ({}{} chain{}, {} rule{})", t.family, t.name,
                       t.iptables_nft ? "iptables-nft, " : "", t.chains, t.chains == 1 ? "" : "s",
                       t.rules, t.rules == 1 ? "" : "s");
  }
  return out;
}

Status detect_nftables(bool& has_rules, std::string& what) {
  std::vector<NftTableInfo> tables;
  Status s = list_nft_tables(tables);
  has_rules = false;
  what.clear();
  if (!s.ok()) return s;
  has_rules = !tables.empty();
  what = describe_nft_tables(tables);
  return Status::Ok();
}

}  // namespace snare
