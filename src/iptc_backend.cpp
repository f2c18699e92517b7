// The libiptc backend: read a table into a TableState, write a TableState in one commit.
//
// Writing always rebuilds the whole table in libiptc's in-memory copy (flush every chain, delete
// the user chains, create the wanted chains, append every entry) and commits once: the kernel
// swaps the table atomically (one SO_SET_REPLACE), so readers and packets see the old table or
// the new one, never a mix. Rebuilding instead of editing keeps write() free of diff logic and
// makes "restore a snapshot" the same operation as "apply a plan".
//
// Both libip4tc and libip6tc are linked; their functions have distinct prefixes (iptc_/ip6tc_),
// so a traits struct picks the set per family and the code is written once.
#include "iptc_backend.h"

// glibc's network headers first (libiptc's headers include them), then the kernel's.
#include <libiptc/libiptc.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
extern "C" {  // libip6tc.h has no extern "C" of its own (libiptc-guide.md §2)
#include <libiptc/libip6tc.h>
}

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <set>

#include "log.h"
#include "render_save.h"

namespace snare {

ChainState* TableState::find(const std::string& name) {
  for (auto& c : chains)
    if (c.name == name) return &c;
  return nullptr;
}
const ChainState* TableState::find(const std::string& name) const {
  for (auto& c : chains)
    if (c.name == name) return &c;
  return nullptr;
}
bool TableState::empty() const {
  for (auto& c : chains)
    if (!c.builtin || !c.entries.empty()) return false;
  return true;
}

TableState empty_table_state(Family family, Table table) {
  TableState s;
  s.family = family;
  s.table = table;
  for (const std::string& name : builtin_chains(table))
    s.chains.push_back({name, true, "ACCEPT", {}});
  return s;
}

TableImage to_image(const TableState& state) {
  TableImage img;
  img.table = state.table;
  for (const ChainState& c : state.chains) {
    Chain ch{c.name, c.builtin, {}};
    for (const EntryState& e : c.entries) {
      Rule r = e.rule;
      r.table = state.table;
      r.chain = c.name;
      r.insert_at = 0;
      ch.rules.push_back(std::move(r));
    }
    img.chains.push_back(std::move(ch));
  }
  return img;
}

std::string entry_state_key(Family family, const EntryState& e) {
  return entry_key(family, e.bytes);
}

std::string render_entry(Family family, const std::string& chain, const EntryState& e) {
  Rule r = e.rule;
  r.chain = chain;
  r.insert_at = 0;
  std::string line = render_save_rule(r, family);
  if (!e.unsupported.empty())
    line += fmt::format(" [unsupported by snare: {}]", fmt::join(e.unsupported, ", "));
  return line;
}

std::string iptc_errno_text(int err) {
  switch (err) {
    case EPERM:
    case EACCES:
      return fmt::format("{} (snare needs CAP_NET_ADMIN and CAP_NET_RAW)", errno_text(err));
    case EAGAIN:
      return fmt::format("{} (the table changed while snare was writing it)", errno_text(err));
    case EINVAL:
      return fmt::format(
          "{} (the kernel refused a rule; its log, dmesg, names the rule and the reason)",
          errno_text(err));
    default:
      return errno_text(err);
  }
}

namespace {

// --- per-family libiptc entry points ---------------------------------------------------------

struct Ip4 {
  using Entry = ipt_entry;
  static constexpr Family family = Family::v4;
  static constexpr const char* names_file = "/proc/thread-self/net/ip_tables_names";
  static constexpr int sol = IPPROTO_IP, af = AF_INET;
  static constexpr int rev_match = IPT_SO_GET_REVISION_MATCH,
                       rev_target = IPT_SO_GET_REVISION_TARGET;
  static xtc_handle* init(const char* t) { return iptc_init(t); }
  static void free(xtc_handle* h) { iptc_free(h); }
  static const char* first_chain(xtc_handle* h) { return iptc_first_chain(h); }
  static const char* next_chain(xtc_handle* h) { return iptc_next_chain(h); }
  static int builtin(const char* c, xtc_handle* h) { return iptc_builtin(c, h); }
  static const char* get_policy(const char* c, xt_counters* k, xtc_handle* h) {
    return iptc_get_policy(c, k, h);
  }
  static const Entry* first_rule(const char* c, xtc_handle* h) { return iptc_first_rule(c, h); }
  static const Entry* next_rule(const Entry* e, xtc_handle* h) { return iptc_next_rule(e, h); }
  static const char* get_target(const Entry* e, xtc_handle* h) { return iptc_get_target(e, h); }
  static int flush(const char* c, xtc_handle* h) { return iptc_flush_entries(c, h); }
  static int del_chain(const char* c, xtc_handle* h) { return iptc_delete_chain(c, h); }
  static int create_chain(const char* c, xtc_handle* h) { return iptc_create_chain(c, h); }
  static int set_policy(const char* c, const char* p, xtc_handle* h) {
    return iptc_set_policy(c, p, nullptr, h);
  }
  static int append(const char* c, const void* e, xtc_handle* h) {
    return iptc_append_entry(c, static_cast<const Entry*>(e), h);
  }
  static int commit(xtc_handle* h) { return iptc_commit(h); }
};

struct Ip6 {
  using Entry = ip6t_entry;
  static constexpr Family family = Family::v6;
  static constexpr const char* names_file = "/proc/thread-self/net/ip6_tables_names";
  static constexpr int sol = IPPROTO_IPV6, af = AF_INET6;
  static constexpr int rev_match = IP6T_SO_GET_REVISION_MATCH,
                       rev_target = IP6T_SO_GET_REVISION_TARGET;
  static xtc_handle* init(const char* t) { return ip6tc_init(t); }
  static void free(xtc_handle* h) { ip6tc_free(h); }
  static const char* first_chain(xtc_handle* h) { return ip6tc_first_chain(h); }
  static const char* next_chain(xtc_handle* h) { return ip6tc_next_chain(h); }
  static int builtin(const char* c, xtc_handle* h) { return ip6tc_builtin(c, h); }
  static const char* get_policy(const char* c, xt_counters* k, xtc_handle* h) {
    return ip6tc_get_policy(c, k, h);
  }
  static const Entry* first_rule(const char* c, xtc_handle* h) { return ip6tc_first_rule(c, h); }
  static const Entry* next_rule(const Entry* e, xtc_handle* h) { return ip6tc_next_rule(e, h); }
  static const char* get_target(const Entry* e, xtc_handle* h) { return ip6tc_get_target(e, h); }
  static int flush(const char* c, xtc_handle* h) { return ip6tc_flush_entries(c, h); }
  static int del_chain(const char* c, xtc_handle* h) { return ip6tc_delete_chain(c, h); }
  static int create_chain(const char* c, xtc_handle* h) { return ip6tc_create_chain(c, h); }
  static int set_policy(const char* c, const char* p, xtc_handle* h) {
    return ip6tc_set_policy(c, p, nullptr, h);
  }
  static int append(const char* c, const void* e, xtc_handle* h) {
    return ip6tc_append_entry(c, static_cast<const Entry*>(e), h);
  }
  static int commit(xtc_handle* h) { return ip6tc_commit(h); }
};

const char* fam_text(Family f) { return f == Family::v4 ? "ipv4" : "ipv6"; }

// Whether the kernel already instantiated the table in this thread's network namespace. Reading
// the list (instead of iptc_init) avoids creating empty tables just by looking.
bool table_present(const char* names_file, Table table) {
  std::ifstream in(names_file);
  std::string line;
  while (std::getline(in, line))
    if (line == table_name(table)) return true;
  return false;
}

// Asks the kernel whether it has an extension at a revision (libiptc-guide.md §6). Returns "" when
// it has, else what is missing.
template <typename F>
std::string probe_extension(const ExtensionRef& x) {
  int fd = socket(F::af, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
  if (fd < 0) return "";
  xt_get_revision r{};
  std::snprintf(r.name, sizeof r.name, "%s", x.name.c_str());
  r.revision = static_cast<uint8_t>(x.revision);
  socklen_t len = sizeof r;
  int rc = getsockopt(fd, F::sol, x.target ? F::rev_target : F::rev_match, &r, &len);
  int err = errno;
  close(fd);
  if (rc == 0) return "";
  const char* kind = x.target ? "target" : "match";
  if (err == EPROTONOSUPPORT)
    return fmt::format("{} {} revision {} (the kernel has {} only at other revisions)", kind,
                       x.name, x.revision, x.name);
  if (err == ENOENT)
    return fmt::format("{} {} (kernel module xt_{} or {}_{} not available)", kind, x.name, x.name,
                       F::family == Family::v4 ? "ipt" : "ip6t", x.name);
  return "";
}

template <typename F>
class IptcTable {
 public:
  static Status read(Table table, TableState& out) {
    out = empty_table_state(F::family, table);
    out.present = table_present(F::names_file, table);
    if (!out.present) return Status::Ok();
    xtc_handle* h = F::init(table_name(table));
    if (!h) {
      int err = errno;
      return Status::Fail(fmt::format(
          "read {} table ({}): {}", table_name(table), fam_text(F::family),
          err == ENOENT ? "the table does not exist in the kernel" : iptc_errno_text(err)));
    }
    out.chains.clear();
    // Collect the names first: the chain iterator must not run while we query chains.
    std::vector<std::string> names;
    for (const char* c = F::first_chain(h); c; c = F::next_chain(h)) names.emplace_back(c);
    for (const std::string& name : names) {
      ChainState cs;
      cs.name = name;
      cs.builtin = F::builtin(name.c_str(), h) != 0;
      if (cs.builtin) {
        xt_counters cnt{};
        const char* pol = F::get_policy(name.c_str(), &cnt, h);
        cs.policy = pol ? pol : "ACCEPT";
      }
      for (const auto* e = F::first_rule(name.c_str(), h); e; e = F::next_rule(e, h)) {
        const char* label = F::get_target(e, h);
        EntryState es;
        DecodedRule d = decode_entry(F::family, e, label);
        es.rule = std::move(d.rule);
        es.rule.table = table;
        es.rule.chain = name;
        es.unsupported = std::move(d.unsupported);
        es.bytes = normalize_entry(F::family, e, label);
        cs.entries.push_back(std::move(es));
      }
      out.chains.push_back(std::move(cs));
    }
    F::free(h);
    return Status::Ok();
  }

  static Status write(const TableState& want) {
    const char* tname = table_name(want.table);
    auto where = [&] { return fmt::format("{} table ({})", tname, fam_text(F::family)); };
    constexpr int kAttempts = 5;
    for (int attempt = 1;; attempt++) {
      xtc_handle* h = F::init(tname);
      if (!h) {
        int err = errno;
        return Status::Fail(fmt::format(
            "open {}: {}", where(),
            err == ENOENT ? fmt::format("the kernel has no {} table (module {}table_{} missing?)",
                                        tname, F::family == Family::v4 ? "ip" : "ip6", tname)
                          : iptc_errno_text(err)));
      }
      std::string step;
      int err = 0;
      auto failed = [&](std::string what) {
        err = errno;
        step = std::move(what);
        return false;
      };
      auto build = [&]() -> bool {
        std::vector<std::pair<std::string, bool>> have;
        for (const char* c = F::first_chain(h); c; c = F::next_chain(h))
          have.emplace_back(c, false);
        for (auto& [name, builtin] : have) builtin = F::builtin(name.c_str(), h) != 0;
        for (auto& [name, builtin] : have)
          if (!F::flush(name.c_str(), h)) return failed("flush chain " + name);
        for (auto& [name, builtin] : have)
          if (!builtin && !F::del_chain(name.c_str(), h)) return failed("delete chain " + name);
        for (const ChainState& c : want.chains) {
          if (c.builtin) {
            if (!c.policy.empty() && !F::set_policy(c.name.c_str(), c.policy.c_str(), h))
              return failed("set policy of " + c.name);
          } else if (!F::create_chain(c.name.c_str(), h)) {
            return failed("create chain " + c.name);
          }
        }
        for (const ChainState& c : want.chains)
          for (const EntryState& e : c.entries)
            if (!F::append(c.name.c_str(), e.bytes.data(), h))
              return failed("append a rule to " + c.name);
        if (!F::commit(h)) return failed("commit");
        return true;
      };
      bool ok = build();
      F::free(h);
      if (ok) return Status::Ok();
      if (err == EAGAIN && attempt < kAttempts) {
        log_warn("{} changed during the commit (EAGAIN), rebuilding, attempt {}", where(),
                 attempt + 1);
        continue;
      }
      std::string why = iptc_errno_text(err);
      if (step == "commit" && (err == ENOENT || err == EINVAL)) {
        // Name what the kernel lacks: probe every extension the table uses.
        std::set<std::string> missing;
        for (const ChainState& c : want.chains)
          for (const EntryState& e : c.entries)
            for (const ExtensionRef& x : entry_extensions(F::family, e.bytes))
              if (std::string m = probe_extension<F>(x); !m.empty()) missing.insert(m);
        if (!missing.empty())
          why = fmt::format("{}: the kernel lacks {}", errno_text(err), fmt::join(missing, ", "));
        else if (err == ENOENT)
          why = fmt::format("{} (a jump to a chain that does not exist, or a missing match/target)",
                            errno_text(err));
      }
      return Status::Fail(fmt::format("{} {}: {}", step, where(), why));
    }
  }
};

class IptcBackend : public TablesBackend {
 public:
  std::string name() const override { return "libiptc (legacy x_tables)"; }
  Status read(Family family, Table table, TableState& out) override {
    return family == Family::v4 ? IptcTable<Ip4>::read(table, out)
                                : IptcTable<Ip6>::read(table, out);
  }
  Status write(const TableState& desired) override {
    return desired.family == Family::v4 ? IptcTable<Ip4>::write(desired)
                                        : IptcTable<Ip6>::write(desired);
  }
};

}  // namespace

std::unique_ptr<TablesBackend> make_iptc_backend() { return std::make_unique<IptcBackend>(); }

}  // namespace snare
