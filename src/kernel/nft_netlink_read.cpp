// nf_tables tables dumped into an NlForm (see nft_netlink.h).
//
// One NLM_F_DUMP request per object kind, restricted to the family, and to one table where the
// kernel filters by it (rules, sets, set elements, objects, flowtables; tables and chains are
// dumped per family and filtered here). A dump the kernel marks interrupted by a concurrent
// change (NLM_F_DUMP_INTR) reads everything again.
#include <fmt/format.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <algorithm>
#include <ctime>
#include <functional>
#include <map>

#include "kernel/nft_netlink.h"
#include "kernel/nft_netlink_expr.h"
#include "kernel/nft_netlink_util.h"

namespace snare {
namespace {

struct TableState {
  NlTable table;
  bool found = false;
  std::map<std::string, NlSet> anon_sets;  // by the kernel's name (`__set0`)
};

struct ReadState {
  std::map<std::string, TableState> tables;
  TableState* current = nullptr;  // the table a per-table dump is about
  NlSet* set = nullptr;           // the set a GETSETELEM dump is about
};

using Payload = std::function<void(nlmsghdr*)>;

// One dump request; 0 or an errno value (EINTR: interrupted, read again).
int dump(mnl_socket* nl, uint16_t type, uint32_t family, const Payload& payload, mnl_cb_t cb,
         ReadState& st) {
  std::vector<char> buf(1 << 16);
  thread_local uint32_t seq = static_cast<uint32_t>(std::time(nullptr));
  const uint32_t my_seq = ++seq;
  nlmsghdr* nlh =
      nftnl_nlmsg_build_hdr(buf.data(), type, static_cast<uint16_t>(family), NLM_F_DUMP, my_seq);
  if (payload) payload(nlh);
  if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) return errno;
  const uint32_t portid = mnl_socket_get_portid(nl);
  for (;;) {
    const ssize_t n = mnl_socket_recvfrom(nl, buf.data(), buf.size());
    if (n < 0) return errno;
    const int rc = mnl_cb_run(buf.data(), static_cast<size_t>(n), my_seq, portid, cb, &st);
    if (rc < 0) return errno;
    if (rc == MNL_CB_STOP) return 0;
  }
}

std::string str_or_empty(const char* s) { return s ? s : ""; }

int table_cb(const nlmsghdr* nlh, void* data) {
  auto& st = *static_cast<ReadState*>(data);
  NlPtr<nftnl_table> t(nftnl_table_alloc());
  if (nftnl_table_nlmsg_parse(nlh, t.get()) < 0) return MNL_CB_OK;
  auto it = st.tables.find(str_or_empty(nftnl_table_get_str(t.get(), NFTNL_TABLE_NAME)));
  if (it == st.tables.end()) return MNL_CB_OK;
  it->second.found = true;
  it->second.table.flags = nftnl_table_get_u32(t.get(), NFTNL_TABLE_FLAGS);
  return MNL_CB_OK;
}

int chain_cb(const nlmsghdr* nlh, void* data) {
  auto& st = *static_cast<ReadState*>(data);
  NlPtr<nftnl_chain> c(nftnl_chain_alloc());
  if (nftnl_chain_nlmsg_parse(nlh, c.get()) < 0) return MNL_CB_OK;
  auto it = st.tables.find(str_or_empty(nftnl_chain_get_str(c.get(), NFTNL_CHAIN_TABLE)));
  if (it == st.tables.end() || !it->second.found) return MNL_CB_OK;
  NlChain ch;
  ch.name = str_or_empty(nftnl_chain_get_str(c.get(), NFTNL_CHAIN_NAME));
  ch.base = nftnl_chain_is_set(c.get(), NFTNL_CHAIN_HOOKNUM);
  if (ch.base) {
    ch.type = str_or_empty(nftnl_chain_get_str(c.get(), NFTNL_CHAIN_TYPE));
    ch.hook = nftnl_chain_get_u32(c.get(), NFTNL_CHAIN_HOOKNUM);
    ch.priority = nftnl_chain_get_s32(c.get(), NFTNL_CHAIN_PRIO);
    if (nftnl_chain_is_set(c.get(), NFTNL_CHAIN_POLICY))
      ch.policy = nftnl_chain_get_u32(c.get(), NFTNL_CHAIN_POLICY);
    ch.device = str_or_empty(nftnl_chain_get_str(c.get(), NFTNL_CHAIN_DEV));
  }
  it->second.table.chains.push_back(std::move(ch));
  return MNL_CB_OK;
}

int rule_cb(const nlmsghdr* nlh, void* data) {
  auto& st = *static_cast<ReadState*>(data);
  NlPtr<nftnl_rule> r(nftnl_rule_alloc());
  if (nftnl_rule_nlmsg_parse(nlh, r.get()) < 0 || !st.current) return MNL_CB_OK;
  const std::string chain = str_or_empty(nftnl_rule_get_str(r.get(), NFTNL_RULE_CHAIN));
  auto& chains = st.current->table.chains;
  auto it =
      std::find_if(chains.begin(), chains.end(), [&](const NlChain& c) { return c.name == chain; });
  if (it == chains.end()) return MNL_CB_OK;  // a chain added since the chain dump
  NlRule rule;
  rule.handle = nftnl_rule_get_u64(r.get(), NFTNL_RULE_HANDLE);
  nl_rule_exprs_from_nftnl(r.get(), rule);
  it->rules.push_back(std::move(rule));
  return MNL_CB_OK;
}

int set_cb(const nlmsghdr* nlh, void* data) {
  auto& st = *static_cast<ReadState*>(data);
  NlPtr<nftnl_set> s(nftnl_set_alloc());
  if (nftnl_set_nlmsg_parse(nlh, s.get()) < 0 || !st.current) return MNL_CB_OK;
  NlSet set;
  set.name = str_or_empty(nftnl_set_get_str(s.get(), NFTNL_SET_NAME));
  set.flags = nftnl_set_get_u32(s.get(), NFTNL_SET_FLAGS);
  set.key_type = nftnl_set_get_u32(s.get(), NFTNL_SET_KEY_TYPE);
  set.key_len = nftnl_set_get_u32(s.get(), NFTNL_SET_KEY_LEN);
  set.size = nftnl_set_get_u32(s.get(), NFTNL_SET_DESC_SIZE);
  uint32_t len = 0;
  if (const auto* u =
          static_cast<const uint8_t*>(nftnl_set_get_data(s.get(), NFTNL_SET_USERDATA, &len)))
    set.userdata.assign(u, u + len);
  if (set.anonymous()) {
    st.current->anon_sets[set.name] = std::move(set);
  } else if (set.flags & (NFT_SET_MAP | NFT_SET_OBJECT)) {
    // A map is not a set of the model: an object, named by kind.
    st.current->table.objects.push_back("map " + set.name);
  } else {
    st.current->table.sets.push_back(std::move(set));
  }
  return MNL_CB_OK;
}

int elem_each(nftnl_set_elem* e, void* data) {
  auto& set = *static_cast<NlSet*>(data);
  NlSetElem el;
  uint32_t len = 0;
  if (const auto* k = static_cast<const uint8_t*>(nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len)))
    el.key.assign(k, k + len);
  if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS))
    el.flags = nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS);
  set.elements.push_back(std::move(el));
  return 0;
}

int elem_cb(const nlmsghdr* nlh, void* data) {
  auto& st = *static_cast<ReadState*>(data);
  NlPtr<nftnl_set> s(nftnl_set_alloc());
  if (nftnl_set_elems_nlmsg_parse(nlh, s.get()) < 0 || !st.set) return MNL_CB_OK;
  nftnl_set_elem_foreach(s.get(), elem_each, st.set);
  return MNL_CB_OK;
}

int obj_cb(const nlmsghdr* nlh, void* data) {
  auto& st = *static_cast<ReadState*>(data);
  NlPtr<nftnl_obj> o(nftnl_obj_alloc());
  if (nftnl_obj_nlmsg_parse(nlh, o.get()) < 0 || !st.current) return MNL_CB_OK;
  st.current->table.objects.push_back(
      fmt::format("{} {}", nl_object_kind(nftnl_obj_get_u32(o.get(), NFTNL_OBJ_TYPE)),
                  str_or_empty(nftnl_obj_get_str(o.get(), NFTNL_OBJ_NAME))));
  return MNL_CB_OK;
}

int flowtable_cb(const nlmsghdr* nlh, void* data) {
  auto& st = *static_cast<ReadState*>(data);
  NlPtr<nftnl_flowtable> f(nftnl_flowtable_alloc());
  if (nftnl_flowtable_nlmsg_parse(nlh, f.get()) < 0 || !st.current) return MNL_CB_OK;
  st.current->table.objects.push_back(
      "flowtable " + str_or_empty(nftnl_flowtable_get_str(f.get(), NFTNL_FLOWTABLE_NAME)));
  return MNL_CB_OK;
}

// The per-table dumps of one table: rules, sets, objects, flowtables, then the elements of its
// anonymous sets. 0 or an errno value.
int dump_table(mnl_socket* nl, uint32_t family, TableState& ts, ReadState& st) {
  const std::string& name = ts.table.name;
  st.current = &ts;
  const std::pair<uint16_t, mnl_cb_t> kinds[] = {{NFT_MSG_GETRULE, rule_cb},
                                                 {NFT_MSG_GETSET, set_cb},
                                                 {NFT_MSG_GETOBJ, obj_cb},
                                                 {NFT_MSG_GETFLOWTABLE, flowtable_cb}};
  for (const auto& [type, cb] : kinds) {
    const Payload p = [&, type = type](nlmsghdr* nlh) {
      if (type == NFT_MSG_GETRULE) {
        NlPtr<nftnl_rule> r(nftnl_rule_alloc());
        nftnl_rule_set_str(r.get(), NFTNL_RULE_TABLE, name.c_str());
        nftnl_rule_nlmsg_build_payload(nlh, r.get());
      } else if (type == NFT_MSG_GETSET) {
        NlPtr<nftnl_set> s(nftnl_set_alloc());
        nftnl_set_set_str(s.get(), NFTNL_SET_TABLE, name.c_str());
        nftnl_set_nlmsg_build_payload(nlh, s.get());
      } else if (type == NFT_MSG_GETOBJ) {
        NlPtr<nftnl_obj> o(nftnl_obj_alloc());
        nftnl_obj_set_str(o.get(), NFTNL_OBJ_TABLE, name.c_str());
        nftnl_obj_nlmsg_build_payload(nlh, o.get());
      } else {
        NlPtr<nftnl_flowtable> f(nftnl_flowtable_alloc());
        nftnl_flowtable_set_str(f.get(), NFTNL_FLOWTABLE_TABLE, name.c_str());
        nftnl_flowtable_nlmsg_build_payload(nlh, f.get());
      }
    };
    if (int err = dump(nl, type, family, p, cb, st)) return err;
  }
  for (auto& [set_name, set] : ts.anon_sets) {
    st.set = &set;
    const Payload p = [&, n = set_name](nlmsghdr* nlh) {
      NlPtr<nftnl_set> s(nftnl_set_alloc());
      nftnl_set_set_str(s.get(), NFTNL_SET_TABLE, name.c_str());
      nftnl_set_set_str(s.get(), NFTNL_SET_NAME, n.c_str());
      nftnl_set_elems_nlmsg_build_payload(nlh, s.get());
    };
    if (int err = dump(nl, NFT_MSG_GETSETELEM, family, p, elem_cb, st)) return err;
    // The kernel dumps a set's elements in its own order (by hash, or by tree): the form keeps
    // them sorted, key then flags.
    std::sort(set.elements.begin(), set.elements.end(), [](const auto& a, const auto& b) {
      return std::tie(a.key, a.flags) < std::tie(b.key, b.flags);
    });
  }
  st.set = nullptr;
  st.current = nullptr;
  return 0;
}

// Each lookup of an anonymous set gets the set itself in place of its kernel name.
void attach_anon_sets(TableState& ts) {
  for (NlChain& c : ts.table.chains)
    for (NlRule& r : c.rules)
      for (NlExpr& e : r.exprs)
        if (auto* l = std::get_if<NlLookup>(&e)) {
          auto it = ts.anon_sets.find(l->set);
          if (it == ts.anon_sets.end()) continue;
          l->anonymous = it->second;
          l->set.clear();
        }
}

int read_once(mnl_socket* nl, uint32_t family, const std::vector<std::string>& names,
              ReadState& st) {
  for (const std::string& n : names) {
    st.tables[n].table.name = n;
    st.tables[n].table.family = family;
  }
  if (int err = dump(nl, NFT_MSG_GETTABLE, family, nullptr, table_cb, st)) return err;
  if (std::none_of(st.tables.begin(), st.tables.end(),
                   [](const auto& t) { return t.second.found; }))
    return 0;
  if (int err = dump(nl, NFT_MSG_GETCHAIN, family, nullptr, chain_cb, st)) return err;
  for (auto& [name, ts] : st.tables)
    if (ts.found) {
      if (int err = dump_table(nl, family, ts, st)) return err;
      attach_anon_sets(ts);
    }
  return 0;
}

}  // namespace

Status nl_read_tables(uint32_t family, const std::vector<std::string>& names, NlForm& out) {
  out.clear();
  NlPtr<mnl_socket> nl;
  if (Status s = nl_open_socket(nl); !s.ok()) return s;
  constexpr int kTries = 5;
  for (int attempt = 0;; ++attempt) {
    ReadState st;
    const int err = read_once(nl.get(), family, names, st);
    // ENOENT: a table removed between two dumps; read again, and it is absent.
    if ((err == EINTR || err == ENOENT) && attempt + 1 < kTries) continue;
    if (err)
      return Status::Fail(
          fmt::format("nftables: reading {} tables: {}", nl_family_name(family), errno_text(err)));
    for (const std::string& n : names) {
      auto it = st.tables.find(n);
      if (it != st.tables.end() && it->second.found) {
        out.push_back(std::move(it->second.table));
        st.tables.erase(it);
      }
    }
    return Status::Ok();
  }
}

}  // namespace snare
