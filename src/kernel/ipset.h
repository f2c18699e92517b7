// IpsetOps: the seam to the kernel's ip_set (ipset) subsystem in the network namespace the
// process is in: netlink (libmnl, NFNL_SUBSYS_IPSET) for the sets and their members, and the
// SO_IP_SET socket option for the index x_tables keeps in a set match (as iptables' set match
// looks it up). ambient-host's probe sets live here in iptables mode; tests/unit has a fake.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "ext/ext.h"
#include "model/rule.h"

namespace snare {

struct IpsetMember {
  std::string ip;  // inet_ntop's spelling
  std::string comment;
};

struct IpsetInfo {
  std::string type;      // "hash:ip"
  std::string family;    // "inet", "inet6", or the number
  bool comment = false;  // created with the comment extension
  uint32_t references = 0;
  std::vector<IpsetMember> members;
};

class IpsetOps {
 public:
  virtual ~IpsetOps() = default;
  // The set with its members; `found` false (and Ok) when there is no set of that name.
  virtual Status get(const std::string& name, bool& found, IpsetInfo& out) = 0;
  // `ipset create NAME hash:ip family inet|inet6 comment -exist`, at istio's revision 2: an
  // existing set of the same definition is left as it is, another one is an error.
  virtual Status create(const std::string& name, Family family) = 0;
  // Removes the set; a set a rule still references cannot go (the error says "in use").
  virtual Status destroy(const std::string& name) = 0;
  // `ipset add NAME IP comment C -exist`: a member already there gets the new comment.
  virtual Status add(const std::string& name, const std::string& ip,
                     const std::string& comment) = 0;
  // `ipset del NAME IP -exist`: a member that is not there is no error.
  virtual Status del(const std::string& name, const std::string& ip) = 0;
  // The set's index (SO_IP_SET, IP_SET_OP_GET_BYNAME), and the name of an index; nullopt: none.
  virtual std::optional<uint16_t> index_of(const std::string& name) = 0;
  virtual std::optional<std::string> name_of(uint16_t index) = 0;
};

std::unique_ptr<IpsetOps> make_ipset_ops();

// The ids a set match's kernel form holds, answered by `ops` (which must outlive the result).
KernelIds kernel_ids(IpsetOps& ops);

}  // namespace snare
