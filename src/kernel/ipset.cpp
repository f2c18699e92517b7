// ip_set over netlink and SO_IP_SET (see ipset.h).
#include "kernel/ipset.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/ipset/ip_set.h>
#include <linux/netfilter/nfnetlink.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <functional>
#include <vector>

#include "base/parse.h"

namespace snare {
namespace {

// hash:ip with comments: istio-cni asks for revision 2 (the first with comments).
constexpr uint8_t kHashIpRevision = 2;

// The kernel answers ip_set's own errors with numbers past errno's.
std::string ipset_error(int err) {
  switch (err) {
    case IPSET_ERR_PROTOCOL:
      return "the kernel's ip_set rejected the request (protocol)";
    case IPSET_ERR_FIND_TYPE:
      return "the kernel has no hash:ip set type (module ip_set_hash_ip)";
    case IPSET_ERR_MAX_SETS:
      return "the kernel's ip_set table is full";
    case IPSET_ERR_BUSY:
    case IPSET_ERR_REFERENCED:
      return "the set is in use (a rule references it)";
    case IPSET_ERR_EXIST:
      return "a set of that name exists with another definition";
    case IPSET_ERR_COMMENT:
      return "the set has no comment extension";
    case IPSET_ERR_INVALID_FAMILY:
      return "the address is not of the set's family";
    case ENOENT:
      return "no such set";
  }
  return errno_text(err);
}

struct MnlClose {
  void operator()(mnl_socket* s) const { mnl_socket_close(s); }
};

// One request: the header, nfgenmsg and the protocol attribute, then what `fill` adds.
class Request {
 public:
  Request(uint8_t cmd, uint8_t family, uint16_t flags) : buf_(MNL_SOCKET_BUFFER_SIZE) {
    nlh_ = mnl_nlmsg_put_header(buf_.data());
    nlh_->nlmsg_type = (NFNL_SUBSYS_IPSET << 8) | cmd;
    nlh_->nlmsg_flags = NLM_F_REQUEST | flags;
    nlh_->nlmsg_seq = seq_ = static_cast<uint32_t>(std::time(nullptr)) ^ cmd;
    auto* g = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh_, sizeof(nfgenmsg)));
    g->nfgen_family = family;
    g->version = NFNETLINK_V0;
    g->res_id = 0;
    mnl_attr_put_u8(nlh_, IPSET_ATTR_PROTOCOL, IPSET_PROTOCOL);
  }
  nlmsghdr* nlh() { return nlh_; }
  uint32_t seq() const { return seq_; }

 private:
  std::vector<char> buf_;
  nlmsghdr* nlh_;
  uint32_t seq_;
};

// Sends `req` and runs `cb` on every answer until the ack or the dump's end; returns 0 or the
// error number (an errno value or an IPSET_ERR_*).
int exchange(Request& req, mnl_cb_t cb, void* data) {
  std::unique_ptr<mnl_socket, MnlClose> nl(mnl_socket_open(NETLINK_NETFILTER));
  if (!nl) return errno;
  if (mnl_socket_bind(nl.get(), 0, MNL_SOCKET_AUTOPID) < 0) return errno;
  if (mnl_socket_sendto(nl.get(), req.nlh(), req.nlh()->nlmsg_len) < 0) return errno;
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE * 4);
  const uint32_t portid = mnl_socket_get_portid(nl.get());
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(nl.get(), buf.data(), buf.size());
    if (n < 0) return errno;
    int rc = mnl_cb_run(buf.data(), static_cast<size_t>(n), req.seq(), portid, cb, data);
    if (rc < 0) return errno;
    if (rc == MNL_CB_STOP) return 0;
  }
}

void put_ip(nlmsghdr* nlh, const IpAddr& ip) {
  nlattr* nest = mnl_attr_nest_start(nlh, IPSET_ATTR_IP);
  if (ip.v6)
    mnl_attr_put(nlh, IPSET_ATTR_IPADDR_IPV6 | NLA_F_NET_BYTEORDER, 16, ip.bytes.data());
  else
    mnl_attr_put(nlh, IPSET_ATTR_IPADDR_IPV4 | NLA_F_NET_BYTEORDER, 4, ip.bytes.data());
  mnl_attr_nest_end(nlh, nest);
}

// The attributes of one level, by type (flags masked off).
struct Attrs {
  std::vector<const nlattr*> at = std::vector<const nlattr*>(64, nullptr);
  const nlattr* operator[](int t) const { return at[static_cast<size_t>(t)]; }
};

int attr_cb(const nlattr* a, void* data) {
  auto& attrs = *static_cast<Attrs*>(data);
  const auto type = static_cast<size_t>(mnl_attr_get_type(a));
  if (type < attrs.at.size()) attrs.at[type] = a;
  return MNL_CB_OK;
}

std::string ip_text(const nlattr* ip) {
  Attrs in;
  mnl_attr_parse_nested(ip, attr_cb, &in);
  char text[INET6_ADDRSTRLEN] = "";
  if (const nlattr* a = in[IPSET_ATTR_IPADDR_IPV4]; a && mnl_attr_get_payload_len(a) == 4)
    inet_ntop(AF_INET, mnl_attr_get_payload(a), text, sizeof text);
  else if (const nlattr* b = in[IPSET_ATTR_IPADDR_IPV6]; b && mnl_attr_get_payload_len(b) == 16)
    inet_ntop(AF_INET6, mnl_attr_get_payload(b), text, sizeof text);
  return text;
}

// One message of a set's listing: the header (type, family, flags) or a batch of members.
int list_cb(const nlmsghdr* nlh, void* data) {
  auto& info = *static_cast<IpsetInfo*>(data);
  Attrs top;
  mnl_attr_parse(nlh, sizeof(nfgenmsg), attr_cb, &top);
  if (const nlattr* t = top[IPSET_ATTR_TYPENAME]) info.type = mnl_attr_get_str(t);
  if (const nlattr* f = top[IPSET_ATTR_FAMILY]) {
    const uint8_t fam = mnl_attr_get_u8(f);
    info.family = fam == NFPROTO_IPV4   ? "inet"
                  : fam == NFPROTO_IPV6 ? "inet6"
                                        : std::to_string(fam);
  }
  if (const nlattr* d = top[IPSET_ATTR_DATA]) {
    Attrs head;
    mnl_attr_parse_nested(d, attr_cb, &head);
    if (const nlattr* c = head[IPSET_ATTR_CADT_FLAGS])
      info.comment = (ntohl(mnl_attr_get_u32(c)) & IPSET_FLAG_WITH_COMMENT) != 0;
    if (const nlattr* r = head[IPSET_ATTR_REFERENCES]) info.references = ntohl(mnl_attr_get_u32(r));
  }
  if (const nlattr* adt = top[IPSET_ATTR_ADT]) {
    // libmnl's mnl_attr_for_each_nested, spelled for C++ (its void* does not convert).
    const char* end =
        static_cast<const char*>(mnl_attr_get_payload(adt)) + mnl_attr_get_payload_len(adt);
    for (auto* e = static_cast<const nlattr*>(mnl_attr_get_payload(adt));
         mnl_attr_ok(e, static_cast<int>(end - reinterpret_cast<const char*>(e)));
         e = mnl_attr_next(e)) {
      Attrs m;
      mnl_attr_parse_nested(e, attr_cb, &m);
      IpsetMember member;
      if (m[IPSET_ATTR_IP]) member.ip = ip_text(m[IPSET_ATTR_IP]);
      if (m[IPSET_ATTR_COMMENT]) member.comment = mnl_attr_get_str(m[IPSET_ATTR_COMMENT]);
      info.members.push_back(std::move(member));
    }
  }
  return MNL_CB_OK;
}

// The SO_IP_SET socket option, on a raw socket of this namespace (the kernel checks the
// protocol version first).
bool sockopt(void* req, socklen_t size) {
  const int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
  if (fd < 0) return false;
  ip_set_req_version v{IP_SET_OP_VERSION, 0};
  socklen_t vlen = sizeof v;
  bool ok = getsockopt(fd, SOL_IP, SO_IP_SET, &v, &vlen) == 0;
  if (ok) {
    static_cast<ip_set_req_get_set*>(req)->version = v.version;
    ok = getsockopt(fd, SOL_IP, SO_IP_SET, req, &size) == 0;
  }
  close(fd);
  return ok;
}

class NetlinkIpsets : public IpsetOps {
 public:
  Status get(const std::string& name, bool& found, IpsetInfo& out) override {
    out = IpsetInfo{};
    Request req(IPSET_CMD_LIST, NFPROTO_IPV4, NLM_F_DUMP);
    mnl_attr_put_strz(req.nlh(), IPSET_ATTR_SETNAME, name.c_str());
    const int err = exchange(req, list_cb, &out);
    found = err == 0;
    if (err == 0 || err == ENOENT) return Status::Ok();
    return Status::Fail(fmt::format("listing ipset {}: {}", name, ipset_error(err)));
  }

  Status create(const std::string& name, Family family) override {
    const uint8_t fam = family == Family::v4 ? NFPROTO_IPV4 : NFPROTO_IPV6;
    Request req(IPSET_CMD_CREATE, fam, NLM_F_ACK | NLM_F_CREATE);
    mnl_attr_put_strz(req.nlh(), IPSET_ATTR_SETNAME, name.c_str());
    mnl_attr_put_strz(req.nlh(), IPSET_ATTR_TYPENAME, "hash:ip");
    mnl_attr_put_u8(req.nlh(), IPSET_ATTR_REVISION, kHashIpRevision);
    mnl_attr_put_u8(req.nlh(), IPSET_ATTR_FAMILY, fam);
    nlattr* data = mnl_attr_nest_start(req.nlh(), IPSET_ATTR_DATA);
    mnl_attr_put_u32(req.nlh(), IPSET_ATTR_CADT_FLAGS | NLA_F_NET_BYTEORDER,
                     htonl(IPSET_FLAG_WITH_COMMENT));
    mnl_attr_nest_end(req.nlh(), data);
    return done("creating", name, exchange(req, nullptr, nullptr));
  }

  Status destroy(const std::string& name) override {
    Request req(IPSET_CMD_DESTROY, NFPROTO_IPV4, NLM_F_ACK);
    mnl_attr_put_strz(req.nlh(), IPSET_ATTR_SETNAME, name.c_str());
    return done("destroying", name, exchange(req, nullptr, nullptr));
  }

  Status add(const std::string& name, const std::string& ip, const std::string& comment) override {
    return member(IPSET_CMD_ADD, name, ip, &comment);
  }
  Status del(const std::string& name, const std::string& ip) override {
    return member(IPSET_CMD_DEL, name, ip, nullptr);
  }

  std::optional<uint16_t> index_of(const std::string& name) override {
    ip_set_req_get_set req{};
    req.op = IP_SET_OP_GET_BYNAME;
    std::strncpy(req.set.name, name.c_str(), IPSET_MAXNAMELEN - 1);
    if (!sockopt(&req, sizeof req) || req.set.index == IPSET_INVALID_ID) return std::nullopt;
    return req.set.index;
  }

  std::optional<std::string> name_of(uint16_t index) override {
    ip_set_req_get_set req{};
    req.op = IP_SET_OP_GET_BYINDEX;
    req.set.index = index;
    if (!sockopt(&req, sizeof req)) return std::nullopt;
    std::string name(req.set.name, strnlen(req.set.name, IPSET_MAXNAMELEN));
    if (name.empty()) return std::nullopt;
    return name;
  }

 private:
  static Status done(const char* what, const std::string& name, int err) {
    if (err == 0) return Status::Ok();
    return Status::Fail(fmt::format("{} ipset {}: {}", what, name, ipset_error(err)));
  }

  // Without NLM_F_EXCL the kernel takes it as -exist: an add over a member replaces its
  // comment, a delete of a missing member is no error.
  static Status member(uint8_t cmd, const std::string& name, const std::string& text,
                       const std::string* comment) {
    Parsed<IpAddr> ip = parse_ip(text);
    if (!ip.ok()) return Status::Fail(ip.error);
    Request req(cmd, ip.value.v6 ? NFPROTO_IPV6 : NFPROTO_IPV4, NLM_F_ACK);
    mnl_attr_put_strz(req.nlh(), IPSET_ATTR_SETNAME, name.c_str());
    nlattr* data = mnl_attr_nest_start(req.nlh(), IPSET_ATTR_DATA);
    put_ip(req.nlh(), ip.value);
    if (comment) mnl_attr_put_strz(req.nlh(), IPSET_ATTR_COMMENT, comment->c_str());
    mnl_attr_nest_end(req.nlh(), data);
    return done(cmd == IPSET_CMD_ADD ? "adding to" : "deleting from", name,
                exchange(req, nullptr, nullptr));
  }
};

}  // namespace

std::unique_ptr<IpsetOps> make_ipset_ops() { return std::make_unique<NetlinkIpsets>(); }

KernelIds kernel_ids(IpsetOps& ops) {
  KernelIds ids;
  ids.set_index = [&ops](const std::string& name) { return ops.index_of(name); };
  ids.set_name = [&ops](uint16_t index) { return ops.name_of(index); };
  return ids;
}

}  // namespace snare
