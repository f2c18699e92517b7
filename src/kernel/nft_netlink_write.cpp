// One nf_tables batch from an NlBatch (see nft_netlink.h).
//
// The messages go into one growing buffer, BATCH_BEGIN ... BATCH_END, and out in one sendmsg:
// the socket's send buffer is raised to the batch's size first (a batch of thousands of rules is
// megabytes; the kernel refuses a message larger than the send buffer). Every message asks for an
// ack, and the kernel sends them all once the whole batch is processed, before sendmsg returns;
// the receive buffer is raised to hold them.
#include <fmt/format.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/flowtable.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <poll.h>
#include <sys/socket.h>

#include <ctime>
#include <memory>

#include "kernel/nft_netlink.h"
#include "kernel/nft_netlink_expr.h"
#include "kernel/nft_netlink_util.h"

namespace snare {
namespace {

class BatchBuilder {
 public:
  explicit BatchBuilder(uint32_t first_seq) : seq_(first_seq) {}

  // A message header of `type` at the end of the buffer, room for `room` bytes of payload.
  nlmsghdr* begin(uint16_t type, uint32_t family, uint16_t flags, std::string what,
                  size_t room = 0) {
    reserve(room + 65536);
    map_.add(seq_, std::move(what));
    // No NLM_F_ACK, as nft sends its batches: the kernel carries the batch out within the send
    // and queues an error for a message that fails (and none for the rest), so success is the
    // send returning with no error queued. An ack per message cost the kernel a message each
    // (2,000 rules: about a fifth of the batch's system time) and this process their reading.
    return nftnl_nlmsg_build_hdr(buf_.data() + off_, type, static_cast<uint16_t>(family), flags,
                                 seq_++);
  }
  void end(const nlmsghdr* nlh) { off_ += NLMSG_ALIGN(nlh->nlmsg_len); }
  void batch_begin() {
    reserve(256);
    end(nftnl_batch_begin(buf_.data() + off_, seq_++));
  }
  void batch_end() {
    reserve(256);
    end(nftnl_batch_end(buf_.data() + off_, seq_++));
  }
  uint32_t next_set_id() { return ++set_id_; }

  const char* data() const { return buf_.data(); }
  size_t size() const { return off_; }
  const NlSeqMap& map() const { return map_; }

 private:
  void reserve(size_t room) {
    if (buf_.size() - off_ < room) buf_.resize(std::max(buf_.size() * 2, off_ + room), 0);
  }
  std::vector<char> buf_;
  size_t off_ = 0;
  uint32_t seq_, set_id_ = 0;
  NlSeqMap map_;
};

std::string where(uint32_t family, const std::string& table) {
  return fmt::format("{} {}", nl_family_name(family), table);
}

void add_table_msg(BatchBuilder& b, uint16_t type, uint32_t family, const std::string& name,
                   uint32_t flags, const std::string& what) {
  NlPtr<nftnl_table> t(nftnl_table_alloc());
  nftnl_table_set_u32(t.get(), NFTNL_TABLE_FAMILY, family);
  nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, name.c_str());
  // No flags attribute leaves an existing table's flags as they are.
  if (flags) nftnl_table_set_u32(t.get(), NFTNL_TABLE_FLAGS, flags);
  nlmsghdr* nlh = b.begin(type, family, type == NFT_MSG_NEWTABLE ? NLM_F_CREATE : 0, what);
  nftnl_table_nlmsg_build_payload(nlh, t.get());
  b.end(nlh);
}

void add_chain_msg(BatchBuilder& b, uint32_t family, const std::string& table, const NlChain& c) {
  NlPtr<nftnl_chain> ch(nftnl_chain_alloc());
  nftnl_chain_set_u32(ch.get(), NFTNL_CHAIN_FAMILY, family);
  nftnl_chain_set_str(ch.get(), NFTNL_CHAIN_TABLE, table.c_str());
  nftnl_chain_set_str(ch.get(), NFTNL_CHAIN_NAME, c.name.c_str());
  if (c.base) {
    nftnl_chain_set_str(ch.get(), NFTNL_CHAIN_TYPE, c.type.c_str());
    nftnl_chain_set_u32(ch.get(), NFTNL_CHAIN_HOOKNUM, c.hook);
    nftnl_chain_set_s32(ch.get(), NFTNL_CHAIN_PRIO, c.priority);
    if (c.policy) nftnl_chain_set_u32(ch.get(), NFTNL_CHAIN_POLICY, *c.policy);
    if (!c.device.empty()) nftnl_chain_set_str(ch.get(), NFTNL_CHAIN_DEV, c.device.c_str());
  }
  nlmsghdr* nlh = b.begin(NFT_MSG_NEWCHAIN, family, NLM_F_CREATE,
                          fmt::format("add chain {} {}", where(family, table), c.name));
  nftnl_chain_nlmsg_build_payload(nlh, ch.get());
  b.end(nlh);
}

NlPtr<nftnl_set> set_object(uint32_t family, const std::string& table, const std::string& name,
                            uint32_t id) {
  NlPtr<nftnl_set> set(nftnl_set_alloc());
  nftnl_set_set_u32(set.get(), NFTNL_SET_FAMILY, family);
  nftnl_set_set_str(set.get(), NFTNL_SET_TABLE, table.c_str());
  nftnl_set_set_str(set.get(), NFTNL_SET_NAME, name.c_str());
  if (id) nftnl_set_set_u32(set.get(), NFTNL_SET_ID, id);
  return set;
}

// NEWSET: a named set of the table, or a rule's anonymous set (kAnonSetName); then, for an
// anonymous one, its elements (NEWSETELEM). Every NEWSET carries a batch-unique NFTA_SET_ID, as
// nft's do (the kernel refuses a new set without one).
void add_set_msgs(BatchBuilder& b, uint32_t family, const std::string& table, const NlSet& s,
                  uint32_t id, bool anon, const std::string& what) {
  const std::string name = anon ? kAnonSetName : s.name;
  NlPtr<nftnl_set> set = set_object(family, table, name, id);
  nftnl_set_set_u32(set.get(), NFTNL_SET_FLAGS, s.flags);
  nftnl_set_set_u32(set.get(), NFTNL_SET_KEY_TYPE, s.key_type);
  nftnl_set_set_u32(set.get(), NFTNL_SET_KEY_LEN, s.key_len);
  if (s.size) nftnl_set_set_u32(set.get(), NFTNL_SET_DESC_SIZE, s.size);
  if (!s.userdata.empty())
    nftnl_set_set_data(set.get(), NFTNL_SET_USERDATA, s.userdata.data(),
                       static_cast<uint32_t>(s.userdata.size()));
  nlmsghdr* nlh = b.begin(NFT_MSG_NEWSET, family, NLM_F_CREATE, what);
  nftnl_set_nlmsg_build_payload(nlh, set.get());
  b.end(nlh);
  if (s.elements.empty()) return;
  NlPtr<nftnl_set> elems = set_object(family, table, name, id);
  for (const NlSetElem& e : s.elements) {
    nftnl_set_elem* el = nftnl_set_elem_alloc();
    nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, e.key.data(), static_cast<uint32_t>(e.key.size()));
    if (e.flags) nftnl_set_elem_set_u32(el, NFTNL_SET_ELEM_FLAGS, e.flags);
    nftnl_set_elem_add(elems.get(), el);
  }
  nlh = b.begin(NFT_MSG_NEWSETELEM, family, NLM_F_CREATE, what, s.elements.size() * 64);
  nftnl_set_elems_nlmsg_build_payload(nlh, elems.get());
  b.end(nlh);
}

// A rule's anonymous sets (NEWSET + NEWSETELEM, one id each), then the rule (NEWRULE, appended)
// whose lookups refer to them by those ids.
void add_rule_msgs(BatchBuilder& b, uint32_t family, const std::string& table,
                   const std::string& chain, const NlRule& rule, size_t index) {
  const std::string what = !rule.label.empty()
                               ? rule.label
                               : fmt::format("add rule {} {} (rule {} of the chain)",
                                             where(family, table), chain, index + 1);
  NlPtr<nftnl_rule> r(nftnl_rule_alloc());
  nftnl_rule_set_u32(r.get(), NFTNL_RULE_FAMILY, family);
  nftnl_rule_set_str(r.get(), NFTNL_RULE_TABLE, table.c_str());
  nftnl_rule_set_str(r.get(), NFTNL_RULE_CHAIN, chain.c_str());
  for (const NlExpr& e : rule.exprs) {
    uint32_t id = 0;
    if (const auto* l = std::get_if<NlLookup>(&e); l && l->anonymous) {
      id = b.next_set_id();
      add_set_msgs(b, family, table, *l->anonymous, id, true, what);
    }
    nftnl_rule_add_expr(r.get(), nl_expr_to_nftnl(e, id));
  }
  nlmsghdr* nlh = b.begin(NFT_MSG_NEWRULE, family, NLM_F_CREATE | NLM_F_APPEND, what);
  nftnl_rule_nlmsg_build_payload(nlh, r.get());
  b.end(nlh);
}

void add_table_op(BatchBuilder& b, const NlTable& t) {
  const std::string at = where(t.family, t.name);
  add_table_msg(b, NFT_MSG_NEWTABLE, t.family, t.name, t.flags, "add table " + at);
  for (const NlSet& s : t.sets)
    add_set_msgs(b, t.family, t.name, s, b.next_set_id(), false,
                 fmt::format("add set {} {}", at, s.name));
  // Every chain before any rule: a rule may jump to a chain that comes later.
  for (const NlChain& c : t.chains) add_chain_msg(b, t.family, t.name, c);
  for (const NlChain& c : t.chains)
    for (size_t i = 0; i < c.rules.size(); ++i)
      add_rule_msgs(b, t.family, t.name, c.name, c.rules[i], i);
}

// DELRULE: every rule of the table (no chain), of one chain, or one rule by handle.
void del_rule_msg(BatchBuilder& b, uint32_t family, const std::string& table,
                  const std::string& chain, uint64_t handle, const std::string& what) {
  NlPtr<nftnl_rule> r(nftnl_rule_alloc());
  nftnl_rule_set_u32(r.get(), NFTNL_RULE_FAMILY, family);
  nftnl_rule_set_str(r.get(), NFTNL_RULE_TABLE, table.c_str());
  if (!chain.empty()) nftnl_rule_set_str(r.get(), NFTNL_RULE_CHAIN, chain.c_str());
  if (handle) nftnl_rule_set_u64(r.get(), NFTNL_RULE_HANDLE, handle);
  nlmsghdr* nlh = b.begin(NFT_MSG_DELRULE, family, 0, what);
  nftnl_rule_nlmsg_build_payload(nlh, r.get());
  b.end(nlh);
}

void del_chain_msg(BatchBuilder& b, const NlDeleteChain& d) {
  NlPtr<nftnl_chain> ch(nftnl_chain_alloc());
  nftnl_chain_set_u32(ch.get(), NFTNL_CHAIN_FAMILY, d.family);
  nftnl_chain_set_str(ch.get(), NFTNL_CHAIN_TABLE, d.table.c_str());
  nftnl_chain_set_str(ch.get(), NFTNL_CHAIN_NAME, d.chain.c_str());
  nlmsghdr* nlh = b.begin(NFT_MSG_DELCHAIN, d.family, 0,
                          fmt::format("delete chain {} {}", where(d.family, d.table), d.chain));
  nftnl_chain_nlmsg_build_payload(nlh, ch.get());
  b.end(nlh);
}

Status del_object_msg(BatchBuilder& b, const NlDeleteObject& d) {
  const std::string what = fmt::format("delete {} {} {}", d.kind, where(d.family, d.table), d.name);
  uint32_t type = 0;
  if (d.kind == "set" || d.kind == "map") {
    NlPtr<nftnl_set> s = set_object(d.family, d.table, d.name, 0);
    nlmsghdr* nlh = b.begin(NFT_MSG_DELSET, d.family, 0, what);
    nftnl_set_nlmsg_build_payload(nlh, s.get());
    b.end(nlh);
  } else if (d.kind == "flowtable") {
    NlPtr<nftnl_flowtable> f(nftnl_flowtable_alloc());
    nftnl_flowtable_set_u32(f.get(), NFTNL_FLOWTABLE_FAMILY, d.family);
    nftnl_flowtable_set_str(f.get(), NFTNL_FLOWTABLE_TABLE, d.table.c_str());
    nftnl_flowtable_set_str(f.get(), NFTNL_FLOWTABLE_NAME, d.name.c_str());
    nlmsghdr* nlh = b.begin(NFT_MSG_DELFLOWTABLE, d.family, 0, what);
    nftnl_flowtable_nlmsg_build_payload(nlh, f.get());
    b.end(nlh);
  } else if (nl_object_type(d.kind, type)) {
    NlPtr<nftnl_obj> o(nftnl_obj_alloc());
    nftnl_obj_set_u32(o.get(), NFTNL_OBJ_FAMILY, d.family);
    nftnl_obj_set_str(o.get(), NFTNL_OBJ_TABLE, d.table.c_str());
    nftnl_obj_set_str(o.get(), NFTNL_OBJ_NAME, d.name.c_str());
    nftnl_obj_set_u32(o.get(), NFTNL_OBJ_TYPE, type);
    nlmsghdr* nlh = b.begin(NFT_MSG_DELOBJ, d.family, 0, what);
    nftnl_obj_nlmsg_build_payload(nlh, o.get());
    b.end(nlh);
  } else {
    return Status::Fail(fmt::format("nftables: {}: unknown object kind", what));
  }
  return Status::Ok();
}

// Each operation as the messages it means (model/netlink_form.h).
struct AddOp {
  BatchBuilder& b;
  Status operator()(const NlAddTable& o) const {
    add_table_op(b, o.table);
    return Status::Ok();
  }
  Status operator()(const NlDeleteTable& o) const {
    const std::string what = "delete table " + where(o.family, o.table);
    add_table_msg(b, NFT_MSG_NEWTABLE, o.family, o.table, 0, what);
    add_table_msg(b, NFT_MSG_DELTABLE, o.family, o.table, 0, what);
    return Status::Ok();
  }
  Status operator()(const NlFlushTable& o) const {
    del_rule_msg(b, o.family, o.table, "", 0, "flush table " + where(o.family, o.table));
    return Status::Ok();
  }
  Status operator()(const NlFlushChain& o) const {
    del_rule_msg(b, o.family, o.table, o.chain, 0,
                 fmt::format("flush chain {} {}", where(o.family, o.table), o.chain));
    return Status::Ok();
  }
  Status operator()(const NlDeleteChain& o) const {
    del_chain_msg(b, o);
    return Status::Ok();
  }
  Status operator()(const NlDeleteRule& o) const {
    del_rule_msg(
        b, o.family, o.table, o.chain, o.handle,
        fmt::format("delete rule {} {} handle {}", where(o.family, o.table), o.chain, o.handle));
    return Status::Ok();
  }
  Status operator()(const NlDeleteObject& o) const { return del_object_msg(b, o); }
};

// Raises a socket buffer to `bytes`: the FORCE option (CAP_NET_ADMIN) passes the system's
// limit, the plain one is the fallback without it.
void raise_buffer(int fd, int force_opt, int opt, size_t bytes) {
  const int v = static_cast<int>(std::min<size_t>(bytes, 1u << 30));
  if (setsockopt(fd, SOL_SOCKET, force_opt, &v, sizeof v) < 0)
    setsockopt(fd, SOL_SOCKET, opt, &v, sizeof v);
}

struct BatchErrors {
  int err = 0;  // the first error's errno, 0 for none
  uint32_t err_seq = 0;
};

// Reads what the kernel queued for a sent batch: it carried the batch out within the send, so
// whatever it has to say (an error for the message that failed) is queued already; nothing
// queued is success.
Status read_errors(mnl_socket* nl, BatchErrors& res) {
  std::vector<char> buf(1 << 16);
  const int fd = mnl_socket_get_fd(nl);
  for (;;) {
    const ssize_t n = recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return Status::Ok();
    if (n < 0) return Status::Fail("nftables: reading the batch's answer: " + errno_text(errno));
    int len = static_cast<int>(n);
    for (auto* h = reinterpret_cast<const nlmsghdr*>(buf.data()); mnl_nlmsg_ok(h, len);
         h = mnl_nlmsg_next(h, &len)) {
      if (h->nlmsg_type != NLMSG_ERROR) continue;
      const auto* e = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(h));
      if (e->error != 0 && res.err == 0) {
        res.err = -e->error;
        res.err_seq = e->msg.nlmsg_seq;
      }
    }
  }
}

}  // namespace

Status nl_write_batch(const NlBatch& batch, bool& committed) {
  committed = false;
  if (batch.empty()) {
    committed = true;
    return Status::Ok();
  }
  BatchBuilder b(static_cast<uint32_t>(std::time(nullptr)));
  b.batch_begin();
  for (const NlOp& op : batch)
    if (Status s = std::visit(AddOp{b}, op); !s.ok()) return s;
  b.batch_end();

  NlPtr<mnl_socket> nl;
  if (Status s = nl_open_socket(nl); !s.ok()) return s;
  const int fd = mnl_socket_get_fd(nl.get());
  raise_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF, b.size() + 65536);
  raise_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF, 1u << 20);
  if (mnl_socket_sendto(nl.get(), b.data(), b.size()) < 0)
    return Status::Fail(
        fmt::format("nftables: sending the batch ({} bytes): {}", b.size(), errno_text(errno)));
  BatchErrors res;
  if (Status s = read_errors(nl.get(), res); !s.ok()) return s;
  if (res.err) return Status::Fail(nl_error_text(res.err, b.map().what(res.err_seq)));
  committed = true;
  return Status::Ok();
}

}  // namespace snare
