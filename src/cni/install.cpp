// `snare-cni install`: puts the plugin into a node's CNI bin directory as a self-contained
// bundle, for nodes that must not depend on the node's libraries.
//
//   <bin dir>/istio-cni        the static launcher (cni_launcher.cpp), replaced atomically
//   <bin dir>/snare-cni.d/     snare-cni, the dynamic loader and every library it maps
//                              (libnftables and its libraries included), by their SONAMEs
//
// The files come from the running process itself (/proc/self/maps after loading libnftables), so
// `install` copies exactly what runs here: run it from the snare-cni image (packaging/k8s/). With
// --watch it stays and puts the launcher back whenever something else (istio's own install-cni,
// on its restart) overwrites istio-cni.
#include <dirent.h>
#include <dlfcn.h>
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "base/log.h"
#include "base/status.h"

namespace snare::cni {
namespace {

namespace fs = std::filesystem;

// Every shared object and the loader the process has mapped.
std::set<std::string> mapped_objects() {
  std::set<std::string> out;
  std::ifstream maps("/proc/self/maps");
  for (std::string line; std::getline(maps, line);) {
    const size_t slash = line.find('/');
    if (slash == std::string::npos) continue;
    const std::string path = line.substr(slash);
    if (path.find(".so") != std::string::npos) out.insert(path);
  }
  return out;
}

// The names the loader looks a library up by: its file name and every `lib*.so.N` link to it in
// its directory (the SONAME link ldconfig makes, when the file carries a longer version).
std::set<std::string> names_of(const fs::path& lib) {
  std::set<std::string> out = {lib.filename().string()};
  std::error_code ec;
  const fs::path real = fs::canonical(lib, ec);
  for (const auto& e : fs::directory_iterator(lib.parent_path(), ec))
    if (e.is_symlink(ec) && fs::canonical(e.path(), ec) == real)
      out.insert(e.path().filename().string());
  return out;
}

Status install_file(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
  if (ec)
    return Status::Fail(fmt::format("copy {} to {}: {}", from.string(), to.string(), ec.message()));
  fs::permissions(to,
                  fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                      fs::perms::others_read | fs::perms::others_exec,
                  ec);
  return Status::Ok();
}

// The bundle, written beside the old one and swapped in, so a running plugin never sees half.
Status write_bundle(const fs::path& bin_dir) {
  dlopen("libnftables.so.1", RTLD_NOW | RTLD_LOCAL);  // its libraries must be mapped to be found
  const fs::path tmp = bin_dir / fmt::format(".snare-cni.d.{}", getpid()),
                 dst = bin_dir / "snare-cni.d";
  std::error_code ec;
  fs::create_directories(tmp, ec);
  if (ec) return Status::Fail(fmt::format("create {}: {}", tmp.string(), ec.message()));
  if (Status s = install_file(fs::read_symlink("/proc/self/exe"), tmp / "snare-cni"); !s.ok())
    return s;
  // Each object once under its file name; its other names (the SONAME link) as links to it.
  for (const std::string& obj : mapped_objects()) {
    const bool loader = fs::path(obj).filename().string().rfind("ld-linux", 0) == 0;
    const std::string file = loader ? "ld-linux-x86-64.so.2" : fs::path(obj).filename().string();
    if (Status s = install_file(obj, tmp / file); !s.ok()) return s;
    for (const std::string& name : names_of(obj))
      if (!loader && name != file) fs::create_symlink(file, tmp / name, ec);
  }
  const fs::path old = bin_dir / fmt::format(".snare-cni.d.old.{}", getpid());
  if (fs::exists(dst)) fs::rename(dst, old, ec);
  fs::rename(tmp, dst, ec);
  if (ec)
    return Status::Fail(
        fmt::format("rename {} to {}: {}", tmp.string(), dst.string(), ec.message()));
  fs::remove_all(old, ec);
  return Status::Ok();
}

std::string contents(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// The launcher as <bin dir>/istio-cni, when it is not already there; true when it was written.
Status write_launcher(const fs::path& bin_dir, bool& wrote) {
  const fs::path launcher = fs::read_symlink("/proc/self/exe").parent_path() / "snare-cni-launcher";
  const fs::path dst = bin_dir / "istio-cni",
                 tmp = bin_dir / fmt::format(".istio-cni.{}", getpid());
  wrote = false;
  if (!fs::exists(launcher))
    return Status::Fail(fmt::format("no launcher at {}", launcher.string()));
  if (fs::exists(dst) && contents(dst) == contents(launcher)) return Status::Ok();
  if (Status s = install_file(launcher, tmp); !s.ok()) return s;
  std::error_code ec;
  fs::rename(tmp, dst, ec);
  if (ec) return Status::Fail(fmt::format("rename to {}: {}", dst.string(), ec.message()));
  wrote = true;
  return Status::Ok();
}

}  // namespace

int install(const std::vector<std::string>& args) {
  std::string dir;
  bool watch = false;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--cni-bin-dir" && i + 1 < args.size())
      dir = args[++i];
    else if (args[i] == "--watch")
      watch = true;
    else
      return (std::fprintf(stderr, "snare-cni install: unknown argument \"%s\"\n", args[i].c_str()),
              2);
  }
  if (dir.empty())
    return (std::fputs("snare-cni install: --cni-bin-dir DIR is needed\n", stderr), 2);
  if (Status s = write_bundle(dir); !s.ok()) return (log_error("install: {}", s.error), 1);
  for (bool first = true;; first = false) {
    bool wrote = false;
    if (Status s = write_launcher(dir, wrote); !s.ok())
      return (log_error("install: {}", s.error), 1);
    if (wrote)
      log_info("installed {}/istio-cni{}", dir, first ? "" : " again (it had been replaced)");
    if (!watch) return 0;
    std::this_thread::sleep_for(std::chrono::seconds(5));
  }
}

}  // namespace snare::cni
