// The libnftables backend (see nft_backend.h).
//
// libnftables is opened with dlopen on first use. Why not link it: it brings five more shared
// libraries (libnftnl, libmnl, libjansson, libgmp, libxtables) that every start would map and
// relocate, iptables mode included, and its libnftnl would meet the static copy snare links for
// detection. Loading it only in nftables mode keeps iptables mode's start as it was.
//
// A transaction goes through a memfd and nft_run_cmd_from_filename("/proc/self/fd/N"), so that
// nft's error messages carry the right line (with a buffer, libnftables 1.0.6 reports kernel
// errors against line 1); without /proc it falls back to the buffer.
#include <dlfcn.h>
#include <fmt/format.h>
#include <nftables/libnftables.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

#include "kernel/nft_backend.h"
#include "kernel/nft_detect.h"
#include "kernel/nft_netlink.h"

namespace snare {
namespace {

// The libnftables functions snare calls, resolved from the loaded library.
struct NftApi {
  decltype(&nft_ctx_new) ctx_new = nullptr;
  decltype(&nft_ctx_free) ctx_free = nullptr;
  decltype(&nft_ctx_output_set_flags) set_flags = nullptr;
  decltype(&nft_ctx_buffer_output) buffer_output = nullptr;
  decltype(&nft_ctx_buffer_error) buffer_error = nullptr;
  decltype(&nft_ctx_get_output_buffer) output = nullptr;
  decltype(&nft_ctx_get_error_buffer) error = nullptr;
  decltype(&nft_run_cmd_from_buffer) run_buffer = nullptr;
  decltype(&nft_run_cmd_from_filename) run_file = nullptr;
};

template <typename F>
bool resolve(void* lib, const char* name, F& out) {
  out = reinterpret_cast<F>(dlsym(lib, name));
  return out != nullptr;
}

Status load(NftApi& api) {
  void* lib = dlopen("libnftables.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib)
    return Status::Fail(fmt::format(
        "cannot load libnftables ({}): native nftables mode needs it (Debian: libnftables1)",
        dlerror()));
  if (!resolve(lib, "nft_ctx_new", api.ctx_new) || !resolve(lib, "nft_ctx_free", api.ctx_free) ||
      !resolve(lib, "nft_ctx_output_set_flags", api.set_flags) ||
      !resolve(lib, "nft_ctx_buffer_output", api.buffer_output) ||
      !resolve(lib, "nft_ctx_buffer_error", api.buffer_error) ||
      !resolve(lib, "nft_ctx_get_output_buffer", api.output) ||
      !resolve(lib, "nft_ctx_get_error_buffer", api.error) ||
      !resolve(lib, "nft_run_cmd_from_buffer", api.run_buffer) ||
      !resolve(lib, "nft_run_cmd_from_filename", api.run_file))
    return Status::Fail(fmt::format("libnftables lacks a function snare needs: {}", dlerror()));
  return Status::Ok();
}

// nft's first message on one line. nft prints "FILE:LINE:COLS: Error: WHAT", then the command
// and a line of carets; this keeps "transaction line LINE: Error: WHAT (in: COMMAND)".
std::string one_line(const std::string& text) {
  std::vector<std::string> lines;
  for (size_t p = 0; p < text.size();) {
    size_t n = text.find('\n', p);
    if (n == std::string::npos) n = text.size();
    if (n > p) lines.push_back(text.substr(p, n - p));
    p = n + 1;
  }
  if (lines.empty()) return "nft failed without a message";
  std::string first = lines[0];
  const size_t err = first.find(": Error: ");
  const size_t colon = first.find(':');
  if (err != std::string::npos && colon < err) {
    const size_t line_end = first.find(':', colon + 1);
    first = fmt::format("transaction line {}{}", first.substr(colon + 1, line_end - colon - 1),
                        first.substr(err));
  }
  if (lines.size() > 1) first += fmt::format(" (in: {})", lines[1]);
  return first;
}

class LibNftables : public NftBackend {
 public:
  ~LibNftables() override {
    if (ctx_) api_.ctx_free(ctx_);
  }
  std::string name() const override { return "nftables"; }

  Status inet_tables(std::vector<std::string>& names,
                     std::map<std::string, uint32_t>& flags) override {
    std::vector<NftTableInfo> all;
    if (Status s = list_nft_tables(all); !s.ok()) return s;
    names.clear();
    flags.clear();
    for (const NftTableInfo& t : all)
      if (t.family == "inet") {
        names.push_back(t.name);
        flags[t.name] = t.flags;
      }
    return Status::Ok();
  }

  Status list_table(const std::string& table, bool json, std::string& out) override {
    return list(fmt::format("list table inet {}", table), json, out);
  }

  Status list_chain(const std::string& table, const std::string& chain, std::string& out) override {
    return list(fmt::format("list chain inet {} {}", table, chain), true, out);
  }

  Status list(const std::string& cmd, bool json, std::string& out) {
    if (Status s = open(); !s.ok()) return s;
    api_.set_flags(ctx_, json ? static_cast<unsigned>(NFT_CTX_OUTPUT_JSON) : 0u);
    const int rc = api_.run_buffer(ctx_, cmd.c_str());
    api_.set_flags(ctx_, 0u);
    if (rc != 0) return Status::Fail(fmt::format("{}: {}", cmd, one_line(api_.error(ctx_))));
    out = api_.output(ctx_);
    return Status::Ok();
  }

  Status ip_tables(std::vector<std::string>& names) override {
    std::vector<NftTableInfo> all;
    if (Status s = list_nft_tables(all); !s.ok()) return s;
    names.clear();
    for (const NftTableInfo& t : all)
      if (t.family == "ip" || t.family == "ip6") names.push_back(t.family + " " + t.name);
    return Status::Ok();
  }

  Status list_ip_table(const std::string& table, std::string& out) override {
    if (Status s = open(); !s.ok()) return s;
    api_.set_flags(ctx_, static_cast<unsigned>(NFT_CTX_OUTPUT_JSON));
    const std::string cmd = "list table " + table;
    const int rc = api_.run_buffer(ctx_, cmd.c_str());
    api_.set_flags(ctx_, 0u);
    if (rc != 0) return Status::Fail(fmt::format("{}: {}", cmd, one_line(api_.error(ctx_))));
    out = api_.output(ctx_);
    return Status::Ok();
  }

  Status list_ruleset(std::string& out) override { return list("list ruleset", true, out); }

  Status run(const std::string& commands, bool& committed) override {
    committed = false;
    if (Status s = open(); !s.ok()) return s;
    int rc = 0;
    const int fd = memfd_create("snare-nft", MFD_CLOEXEC);
    if (fd >= 0 &&
        ::write(fd, commands.data(), commands.size()) == static_cast<ssize_t>(commands.size()) &&
        ::access("/proc/self/fd", F_OK) == 0) {
      rc = api_.run_file(ctx_, fmt::format("/proc/self/fd/{}", fd).c_str());
    } else {
      rc = api_.run_buffer(ctx_, commands.c_str());
    }
    if (fd >= 0) ::close(fd);
    if (rc != 0) return Status::Fail(one_line(api_.error(ctx_)));
    committed = true;
    return Status::Ok();
  }

  // Netlink only (kernel/nft_netlink.h): neither loads libnftables.
  Status read_netlink(uint32_t family, const std::vector<std::string>& names,
                      NlForm& out) override {
    return nl_read_tables(family, names, out);
  }
  Status write_netlink(const NlBatch& batch, bool& committed) override {
    return nl_write_batch(batch, committed);
  }
  Status open() override {
    if (ctx_) return Status::Ok();
    if (Status s = load(api_); !s.ok()) return s;
    ctx_ = api_.ctx_new(NFT_CTX_DEFAULT);
    if (!ctx_) return Status::Fail("libnftables: nft_ctx_new failed");
    api_.buffer_output(ctx_);
    api_.buffer_error(ctx_);
    return Status::Ok();
  }

 private:
  NftApi api_;
  nft_ctx* ctx_ = nullptr;
};

}  // namespace

std::unique_ptr<NftBackend> make_libnftables_backend() { return std::make_unique<LibNftables>(); }

}  // namespace snare
