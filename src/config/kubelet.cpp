// kubelet's UID, found as istio-cni finds it, and the ambient commands' fill-in (see
// fill_config.h).
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "base/parse.h"
#include "config/fill_config.h"

namespace snare {
namespace {

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

// One of the NUL-separated arguments mentions kubelet in any case (snap's kubelite runs as
// `kubelite --kubelet-args-file=...`).
bool cmdline_names_kubelet(std::string cmdline) {
  std::transform(cmdline.begin(), cmdline.end(), cmdline.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const std::string& arg : split_all(cmdline, '\0'))
    if (arg.find("kubelet") != std::string::npos) return true;
  return false;
}

// The real UID: the first field of status's `Uid:` line.
std::optional<uint32_t> real_uid(const std::string& status) {
  for (const std::string& line : split_all(status, '\n')) {
    if (line.rfind("Uid:", 0) != 0) continue;
    const std::string rest = trim(line.substr(4));
    auto uid = parse_u32(rest.substr(0, rest.find_first_of(" \t")));
    if (uid.ok()) return uid.value;
  }
  return std::nullopt;
}

}  // namespace

std::optional<uint32_t> find_kubelet_uid(HostFacts& host, const std::string& proc) {
  for (const std::string& pid : host.list_dir(proc)) {
    if (pid.empty() || !std::all_of(pid.begin(), pid.end(), ::isdigit)) continue;
    const std::string dir = proc + "/" + pid;
    // Processes that went away or cannot be read are skipped, as istio skips them.
    const auto comm = host.read_file(dir + "/comm");
    if (!comm || (trim(*comm) != "kubelet" && trim(*comm) != "kubelite")) continue;
    const auto cmdline = host.read_file(dir + "/cmdline");
    if (!cmdline || !cmdline_names_kubelet(*cmdline)) continue;
    if (const auto status = host.read_file(dir + "/status"))
      if (auto uid = real_uid(*status)) return uid;
  }
  return std::nullopt;
}

Status fill_ambient_config(Config& cfg, HostFacts& host) {
  if (cfg.command != Command::ambient_host || !cfg.native_nftables || cfg.ambient.kubelet_uid)
    return Status::Ok();
  auto uid = find_kubelet_uid(host);
  if (!uid)
    return Status::Fail(
        "--kubelet-uid: not given, and no kubelet or kubelite process in /proc to take it from "
        "(as istio-cni does); --native-nftables needs it for the rule's skuid: pass --kubelet-uid "
        "N");
  cfg.ambient.kubelet_uid = *uid;
  return Status::Ok();
}

}  // namespace snare
