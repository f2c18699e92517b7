// NftBackend: the seam between the nftables apply (apply/nft_apply.h) and the kernel's nf_tables.
//
// The real backend lists table names over netlink with libnftnl (kernel/nft_detect.h: no
// libnftables needed to find out that there is nothing to read) and reads and writes tables with
// libnftables, loaded at run time (kernel/libnftables.cpp): iptables mode never maps it, and a
// node image without libnftables still runs iptables mode. One run() is one netlink batch: the
// kernel applies all of it or none. tests/unit has a fake that keeps listings in memory and
// records the transactions; apply/fault.h has a decorator that fails after a commit.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/netlink_form.h"

namespace snare {

class NftBackend {
 public:
  virtual ~NftBackend() = default;
  virtual std::string name() const = 0;
  // The names of the namespace's `inet` tables, and each one's flags (NFT_TABLE_F_*: dormant,
  // owner, persist) by name. The flags come over netlink because libnftables 1.0.6 prints a
  // wrong value for them in its JSON listing.
  virtual Status inet_tables(std::vector<std::string>& names,
                             std::map<std::string, uint32_t>& flags) = 0;
  // `list table inet NAME`: libnftables' JSON listing, or its text listing (nft's input
  // language, counters included: what a rollback loads again).
  virtual Status list_table(const std::string& name, bool json, std::string& out) = 0;
  // `list chain inet TABLE CHAIN` as JSON: the chain and its rules, no table item. For tables
  // with flags, whose `list table` JSON libnftables 1.0.6 prints from freed memory (the flags'
  // string; the listing can come out cut). A chain that does not exist fails with "No such file".
  virtual Status list_chain(const std::string& table, const std::string& chain,
                            std::string& json) = 0;
  // One transaction of nft commands. `committed` says whether it is in the kernel: after a real
  // failure nothing changed (the error quotes nft's message with the line of the transaction);
  // an injected fault (apply/fault.h) fails after the commit.
  virtual Status run(const std::string& commands, bool& committed) = 0;
  // The tables `names` of `family` as nf_tables holds them, dumped over netlink (libnftnl and
  // libmnl, no libnftables): flags, chains in the kernel's order with their rules, named sets
  // without members, every other object by kind and name. A name that is not there is left out.
  virtual Status read_netlink(uint32_t family, const std::vector<std::string>& names,
                              NlForm& out) = 0;
  // One netlink batch (libnftnl and libmnl, no libnftables, no text). `committed` as for run().
  // A kernel error names the operation that failed (a rule by its NlRule::label).
  virtual Status write_netlink(const NlBatch& batch, bool& committed) = 0;
  // The namespace's `ip` and `ip6` tables (where iptables-nft writes), as "ip nat", "ip6 raw".
  virtual Status ip_tables(std::vector<std::string>& names) = 0;
  // `list table ip nat` (a name as ip_tables gives it): libnftables' JSON listing.
  virtual Status list_ip_table(const std::string& table, std::string& json) = 0;
  // `list ruleset`: libnftables' JSON listing of every table of every family (snare trace
  // --network-namespace reads it, read only).
  virtual Status list_ruleset(std::string& json) = 0;
  // Loads libnftables (once): listing and run() need it, the table names do not. Its failure
  // means an image without libnftables, which iptables mode may be (it needs none of its own).
  virtual Status open() = 0;
};

std::unique_ptr<NftBackend> make_libnftables_backend();

}  // namespace snare
