// `snare-cni install`: puts the plugin into a node's CNI bin directory as a self-contained
// bundle, for nodes that must not depend on the node's libraries.
//
//   <bin dir>/istio-cni        the static launcher (cni_launcher.cpp), replaced atomically
//   <bin dir>/snare-cni.d/     snare-cni, the dynamic loader and every library it maps
//                              (libnftables and its libraries included), by their SONAMEs
//
// The files come from the running process itself (/proc/self/maps after loading libnftables), so
// `install` copies exactly what runs here: run it from the snare-cni image (packaging/k8s/). With
// --watch it stays and, every 2 s, puts back the launcher when something else (istio's own
// install-cni, on its restart) overwrites istio-cni, and any file of the bundle that was removed
// or changed (the whole directory when it is gone). Every write goes to a temporary name in the
// same directory first and is renamed into place.
#include <dirent.h>
#include <dlfcn.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
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

// One file of the bundle: where its bytes come from, its name in snare-cni.d, and the other
// names (SONAME links) it is found by.
struct BundleFile {
  fs::path from;
  std::string name;
  std::vector<std::string> links;
};

// What the installed bundle was when last written or checked, per file: a change to any of it
// (a truncation, an overwrite in place, a removal) means the file is looked at again.
struct Seen {
  uintmax_t size = 0;
  fs::file_time_type mtime;
  ino_t ino = 0;
};
using SeenMap = std::map<std::string, Seen>;

std::optional<Seen> seen_now(const fs::path& p) {
  struct stat st {};
  std::error_code ec;
  if (::lstat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return Seen{static_cast<uintmax_t>(st.st_size), fs::last_write_time(p, ec), st.st_ino};
}

bool operator==(const Seen& a, const Seen& b) {
  return a.size == b.size && a.mtime == b.mtime && a.ino == b.ino;
}

// snare-cni itself, then every object mapped (the loader under the name the launcher runs).
std::vector<BundleFile> bundle_files() {
  dlopen("libnftables.so.1", RTLD_NOW | RTLD_LOCAL);  // its libraries must be mapped to be found
  std::vector<BundleFile> out = {{fs::read_symlink("/proc/self/exe"), "snare-cni", {}}};
  for (const std::string& obj : mapped_objects()) {
    const bool loader = fs::path(obj).filename().string().rfind("ld-linux", 0) == 0;
    BundleFile f{obj, loader ? "ld-linux-x86-64.so.2" : fs::path(obj).filename().string(), {}};
    for (const std::string& name : loader ? std::set<std::string>{} : names_of(obj))
      if (name != f.name) f.links.push_back(name);
    out.push_back(std::move(f));
  }
  return out;
}

// Copies `from` to `to` through a temporary name in `to`'s directory and rename(2), so a plugin
// starting meanwhile finds the old file or the new one, never a part.
Status install_file(const fs::path& from, const fs::path& to) {
  const fs::path tmp = to.parent_path() / fmt::format(".{}.{}", to.filename().string(), getpid());
  std::error_code ec;
  fs::copy_file(from, tmp, fs::copy_options::overwrite_existing, ec);
  if (!ec)
    fs::permissions(tmp,
                    fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                        fs::perms::others_read | fs::perms::others_exec,
                    ec);
  if (!ec) fs::rename(tmp, to, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return Status::Fail(fmt::format("copy {} to {}: {}", from.string(), to.string(), ec.message()));
  }
  return Status::Ok();
}

// The link `dir/name` -> `target`, made aside and renamed over whatever is there.
Status install_link(const fs::path& dir, const std::string& name, const std::string& target) {
  std::error_code ec;
  if (fs::is_symlink(dir / name, ec) && fs::read_symlink(dir / name, ec) == target)
    return Status::Ok();
  const fs::path tmp = dir / fmt::format(".{}.{}", name, getpid());
  fs::remove(tmp, ec);
  fs::create_symlink(target, tmp, ec);
  if (!ec) fs::rename(tmp, dir / name, ec);
  if (ec) return Status::Fail(fmt::format("link {}: {}", (dir / name).string(), ec.message()));
  return Status::Ok();
}

// The bundle, written beside the old one and swapped in, so a running plugin never sees half.
Status write_bundle(const fs::path& bin_dir, const std::vector<BundleFile>& files, SeenMap& seen) {
  const fs::path tmp = bin_dir / fmt::format(".snare-cni.d.{}", getpid()),
                 dst = bin_dir / "snare-cni.d";
  std::error_code ec;
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  if (ec) return Status::Fail(fmt::format("create {}: {}", tmp.string(), ec.message()));
  for (const BundleFile& f : files) {
    if (Status s = install_file(f.from, tmp / f.name); !s.ok()) return s;
    for (const std::string& link : f.links)
      if (Status s = install_link(tmp, link, f.name); !s.ok()) return s;
  }
  const fs::path old = bin_dir / fmt::format(".snare-cni.d.old.{}", getpid());
  if (fs::exists(dst)) fs::rename(dst, old, ec);
  fs::rename(tmp, dst, ec);
  if (ec)
    return Status::Fail(
        fmt::format("rename {} to {}: {}", tmp.string(), dst.string(), ec.message()));
  fs::remove_all(old, ec);
  seen.clear();
  for (const BundleFile& f : files)
    if (auto now = seen_now(dst / f.name)) seen[f.name] = *now;
  return Status::Ok();
}

bool same_bytes(const fs::path& a, const fs::path& b);

// Puts back whatever of the installed bundle differs from its sources: the whole directory when
// it is gone, else each changed or missing file and link. `restored` counts what was written.
Status repair_bundle(const fs::path& bin_dir, const std::vector<BundleFile>& files, SeenMap& seen,
                     int& restored) {
  const fs::path dst = bin_dir / "snare-cni.d";
  restored = 0;
  std::error_code ec;
  if (!fs::is_directory(dst, ec))
    return (restored = static_cast<int>(files.size()), write_bundle(bin_dir, files, seen));
  for (const BundleFile& f : files) {
    const auto now = seen_now(dst / f.name);
    // Unchanged since written or last compared: no need to read it.
    const bool unchanged = now && seen.count(f.name) && seen[f.name] == *now;
    if (!unchanged && now && now->size == fs::file_size(f.from, ec) &&
        same_bytes(f.from, dst / f.name)) {
      seen[f.name] = *now;
    } else if (!unchanged) {
      if (Status s = install_file(f.from, dst / f.name); !s.ok()) return s;
      if (auto after = seen_now(dst / f.name)) seen[f.name] = *after;
      ++restored;
    }
    for (const std::string& link : f.links) {
      const bool ok = fs::is_symlink(dst / link, ec) && fs::read_symlink(dst / link, ec) == f.name;
      if (ok) continue;
      if (Status s = install_link(dst, link, f.name); !s.ok()) return s;
      ++restored;
    }
  }
  return Status::Ok();
}

// Whether two files hold the same bytes, read in blocks (the bundle is tens of MiB).
bool same_bytes(const fs::path& a, const fs::path& b) {
  std::ifstream fa(a, std::ios::binary), fb(b, std::ios::binary);
  if (!fa || !fb) return false;
  std::vector<char> ba(1 << 16), bb(1 << 16);
  while (fa && fb) {
    fa.read(ba.data(), static_cast<std::streamsize>(ba.size()));
    fb.read(bb.data(), static_cast<std::streamsize>(bb.size()));
    if (fa.gcount() != fb.gcount() || !std::equal(ba.begin(), ba.begin() + fa.gcount(), bb.begin()))
      return false;
  }
  return fa.eof() && fb.eof();
}

// The launcher as <bin dir>/istio-cni, when it is not already there; true when it was written.
Status write_launcher(const fs::path& bin_dir, bool& wrote) {
  const fs::path launcher = fs::read_symlink("/proc/self/exe").parent_path() / "snare-cni-launcher";
  const fs::path dst = bin_dir / "istio-cni";
  wrote = false;
  if (!fs::exists(launcher))
    return Status::Fail(fmt::format("no launcher at {}", launcher.string()));
  if (same_bytes(dst, launcher)) return Status::Ok();
  if (Status s = install_file(launcher, dst); !s.ok()) return s;
  wrote = true;
  return Status::Ok();
}

// One look at the installation: the launcher and the bundle put back where they differ.
Status check_once(const fs::path& dir, const std::vector<BundleFile>& files, SeenMap& seen,
                  bool first) {
  int restored = 0;
  if (Status s = repair_bundle(dir, files, seen, restored); !s.ok()) return s;
  if (restored)
    log_info("restored {} file(s) of {}/snare-cni.d (removed or changed)", restored, dir.string());
  bool wrote = false;
  if (Status s = write_launcher(dir, wrote); !s.ok()) return s;
  if (wrote)
    log_info("installed {}/istio-cni{}", dir.string(),
             first ? "" : " again (it had been replaced)");
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
      return (
          log_error("snare-cni install: unknown argument \"{}\" (run snare-cni --help)", args[i]),
          2);
  }
  if (dir.empty()) return (log_error("snare-cni install: --cni-bin-dir DIR is needed"), 2);
  const std::vector<BundleFile> files = bundle_files();
  SeenMap seen;
  if (Status s = write_bundle(dir, files, seen); !s.ok())
    return (log_error("install: {}", s.error), 1);
  if (Status s = check_once(dir, files, seen, true); !s.ok())
    return (log_error("install: {}", s.error), 1);
  // --watch: every 2 s, the launcher (istio's install-cni rewrites it on its restart) and every
  // file of the bundle (a cleanup that removed or truncated it) are put back. A failure is
  // logged and tried again: the watcher is what keeps new pods' ADDs working.
  if (watch)
    log_info("watching {}/istio-cni and the {} files of {}/snare-cni.d every 2 s", dir,
             files.size(), dir);
  while (watch) {
    std::this_thread::sleep_for(std::chrono::seconds(2));
    if (Status s = check_once(dir, files, seen, false); !s.ok())
      log_error("install --watch: {} (trying again in 2 s)", s.error);
  }
  return 0;
}

}  // namespace snare::cni
