// The libiptc backend: read a table into a TableModel, write a TableModel in one commit.
//
// Writing always rebuilds the whole table in libiptc's in-memory copy (flush every chain, delete
// the user chains, create the wanted chains, append every entry) and commits once: the kernel
// swaps the table atomically (one SO_SET_REPLACE), so readers and packets see the old table or
// the new one, never a mix. Rebuilding instead of editing keeps write() free of diff logic and
// makes "restore a snapshot" the same operation as "apply a plan".
//
// Both libip4tc and libip6tc are linked; their functions have distinct prefixes (iptc_/ip6tc_),
// so a traits struct picks the set per family and the code is written once.
#include "kernel/tables.h"

// glibc's network headers first (libiptc's headers include them), then the kernel's.
#include <fcntl.h>
#include <libiptc/libiptc.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
extern "C" {  // libip6tc.h has no extern "C" of its own
#include <libiptc/libip6tc.h>
}

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <set>

#include "base/log.h"
#include "ext/forms.h"
#include "kernel/ipset.h"

namespace snare {
namespace {

// A set match reads back as the set's index: its name is that of the namespace's ipset with
// that index (asked only for a rule that has one).
const KernelIds& read_back_ids() {
  static const std::unique_ptr<IpsetOps> ops = make_ipset_ops();
  static const KernelIds ids = kernel_ids(*ops);
  return ids;
}

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

// Errno in words for a libiptc call, naming the likely cause (missing module, privileges).
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

// The tables the kernel has instantiated in this thread's network namespace, one name per line.
// Reading the list (instead of iptc_init) avoids creating empty tables just by looking.
std::string table_names(const char* names_file) {
  std::string out;
  const int fd = ::open(names_file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;  // no ip6_tables in this kernel: no table either
  char buf[512];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

bool listed(const std::string& names, Table table) {
  const std::string want = std::string(table_name(table)) + "\n";
  return names.rfind(want, 0) == 0 || names.find("\n" + want) != std::string::npos;
}

// Asks the kernel whether it has an extension at a revision. Returns "" when it has, else what is
// missing.
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
  static Status read(Table table, const std::string& instantiated, TableModel& out) {
    out = empty_table(F::family, table);
    out.present = listed(instantiated, table);
    if (!out.present) return Status::Ok();
    xtc_handle* h = F::init(table_name(table));
    if (!h) {
      int err = errno;
      return Status::Fail(fmt::format(
          "read {} table ({}): {}", table_name(table), family_name(F::family),
          err == ENOENT ? "the table does not exist in the kernel" : iptc_errno_text(err)));
    }
    out.chains.clear();
    // Collect the names first: the chain iterator must not run while we query chains.
    std::vector<std::string> names;
    for (const char* c = F::first_chain(h); c; c = F::next_chain(h)) names.emplace_back(c);
    for (const std::string& name : names) out.chains.push_back(read_chain(h, table, name));
    F::free(h);
    sort_chains(out);
    return Status::Ok();
  }

  static Status write(const TableModel& want) {
    constexpr int kAttempts = 5;
    for (int attempt = 1;; attempt++) {
      xtc_handle* h = F::init(table_name(want.table));
      if (!h) return open_failure(want.table, errno);
      Step step = rebuild(h, want);
      F::free(h);
      if (step.ok()) return Status::Ok();
      if (step.err == EAGAIN && attempt < kAttempts) {
        log_warn("{} changed during the commit (EAGAIN), rebuilding, attempt {}", where(want.table),
                 attempt + 1);
        continue;
      }
      return Status::Fail(fmt::format("{} {}: {}", step.what, where(want.table), why(want, step)));
    }
  }

 private:
  // What failed while rebuilding, and its errno.
  struct Step {
    std::string what;
    int err = 0;
    bool ok() const { return what.empty(); }
  };

  static std::string where(Table t) {
    return fmt::format("{} table ({})", table_name(t), family_name(F::family));
  }

  static Chain read_chain(xtc_handle* h, Table table, const std::string& name) {
    Chain c{name, F::builtin(name.c_str(), h) != 0, "", {}};
    if (c.builtin) {
      xt_counters cnt{};
      const char* pol = F::get_policy(name.c_str(), &cnt, h);
      c.policy = pol ? pol : "ACCEPT";
    }
    for (const auto* e = F::first_rule(name.c_str(), h); e; e = F::next_rule(e, h)) {
      const char* label = F::get_target(e, h);
      DecodedRule d = decode_entry(F::family, e, label);
      resolve_kernel_ids(d.rule, read_back_ids());
      Entry& entry = c.entries.emplace_back();
      d.rule.table = table;
      d.rule.chain = name;
      entry.rule = std::make_shared<const Rule>(std::move(d.rule));
      entry.unsupported = std::move(d.unsupported);
      entry.bytes = normalize_entry(F::family, e, label, entry.packets, entry.octets);
    }
    return c;
  }

  static Status open_failure(Table t, int err) {
    return Status::Fail(fmt::format(
        "open {}: {}", where(t),
        err == ENOENT
            ? fmt::format("the kernel has no {} table (module {}table_{} missing?)", table_name(t),
                          F::family == Family::v4 ? "ip" : "ip6", table_name(t))
            : iptc_errno_text(err)));
  }

  // Empties libiptc's copy of the table, fills it with `want` and commits.
  static Step rebuild(xtc_handle* h, const TableModel& want) {
    auto failed = [](std::string what) { return Step{std::move(what), errno}; };
    std::vector<std::pair<std::string, bool>> have;
    for (const char* c = F::first_chain(h); c; c = F::next_chain(h)) have.emplace_back(c, false);
    for (auto& [name, builtin] : have) builtin = F::builtin(name.c_str(), h) != 0;
    for (auto& [name, builtin] : have)
      if (!F::flush(name.c_str(), h)) return failed("flush chain " + name);
    for (auto& [name, builtin] : have)
      if (!builtin && !F::del_chain(name.c_str(), h)) return failed("delete chain " + name);
    for (const Chain& c : want.chains) {
      if (c.builtin) {
        if (!c.policy.empty() && !F::set_policy(c.name.c_str(), c.policy.c_str(), h))
          return failed("set policy of " + c.name);
      } else if (!F::create_chain(c.name.c_str(), h)) {
        return failed("create chain " + c.name);
      }
    }
    std::string scratch;
    for (const Chain& c : want.chains)
      for (const Entry& e : c.entries) {
        // A planned rule is encoded here (not kept: an apply has thousands); counters read back
        // go back with their rule.
        if (e.bytes.empty() && !encode_rule(F::family, *e.rule, scratch).ok())
          return Step{"encode a rule of " + c.name, EINVAL};
        const std::string& bytes = e.bytes.empty() ? scratch : e.bytes;
        const std::string counted = e.packets || e.octets
                                        ? with_counters(F::family, bytes, e.packets, e.octets)
                                        : std::string();
        if (!F::append(c.name.c_str(), counted.empty() ? bytes.data() : counted.data(), h))
          return failed("append a rule to " + c.name);
      }
    if (!F::commit(h)) return failed("commit");
    return {};
  }

  // The reason a rebuild failed; for a refused commit, what the kernel lacks.
  static std::string why(const TableModel& want, const Step& step) {
    if (step.what != "commit" || (step.err != ENOENT && step.err != EINVAL))
      return iptc_errno_text(step.err);
    std::set<std::string> missing;
    std::string bytes;
    for (const Chain& c : want.chains)
      for (const Entry& e : c.entries) {
        if (e.bytes.empty() && !encode_rule(F::family, *e.rule, bytes).ok()) continue;
        for (const ExtensionRef& x : entry_extensions(F::family, e.bytes.empty() ? bytes : e.bytes))
          if (std::string m = probe_extension<F>(x); !m.empty()) missing.insert(m);
      }
    if (!missing.empty())
      return fmt::format("{}: the kernel lacks {}", errno_text(step.err), fmt::join(missing, ", "));
    if (step.err == ENOENT)
      return fmt::format("{} (a jump to a chain that does not exist, or a missing match/target)",
                         errno_text(step.err));
    return iptc_errno_text(step.err);
  }
};

class IptcBackend : public TablesBackend {
 public:
  std::string name() const override { return "libiptc (legacy x_tables)"; }
  Status read(Family family, Table table, TableModel& out) override {
    std::optional<std::string>& names = names_[family == Family::v4 ? 0 : 1];
    if (!names) names = table_names(family == Family::v4 ? Ip4::names_file : Ip6::names_file);
    return family == Family::v4 ? IptcTable<Ip4>::read(table, *names, out)
                                : IptcTable<Ip6>::read(table, *names, out);
  }
  Status write(const TableModel& desired, bool& committed) override {
    names_[desired.family == Family::v4 ? 0 : 1].reset();  // a commit may instantiate the table
    Status s = desired.family == Family::v4 ? IptcTable<Ip4>::write(desired)
                                            : IptcTable<Ip6>::write(desired);
    committed = s.ok();
    return s;
  }

 private:
  // Each family's list of instantiated tables, read once until a write may change it.
  std::optional<std::string> names_[2];
};

}  // namespace

std::unique_ptr<TablesBackend> make_iptc_backend() { return std::make_unique<IptcBackend>(); }

}  // namespace snare
