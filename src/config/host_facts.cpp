// HostFacts seam: the real implementation (see host_facts.h).
#include "config/host_facts.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <grp.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <pwd.h>

#include <fstream>
#include <sstream>

namespace snare {
namespace {

class RealHostFacts : public HostFacts {
 public:
  std::optional<uint32_t> user_id(const std::string& name) override {
    passwd pw{}, *res = nullptr;
    std::vector<char> buf(16384);
    if (getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &res) != 0 || !res)
      return std::nullopt;
    return pw.pw_uid;
  }
  std::optional<uint32_t> group_id(const std::string& name) override {
    group gr{}, *res = nullptr;
    std::vector<char> buf(65536);
    if (getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &res) != 0 || !res)
      return std::nullopt;
    return gr.gr_gid;
  }
  std::vector<std::string> interface_addresses() override {
    std::vector<std::string> out;
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) return out;
    for (ifaddrs* a = list; a; a = a->ifa_next) {
      if (!a->ifa_addr) continue;
      char text[INET6_ADDRSTRLEN] = {};
      if (a->ifa_addr->sa_family == AF_INET) {
        inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr, text,
                  sizeof text);
      } else if (a->ifa_addr->sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(a->ifa_addr)->sin6_addr, text,
                  sizeof text);
      } else {
        continue;
      }
      out.push_back(text);
    }
    freeifaddrs(list);
    return out;
  }
  std::vector<std::string> list_dir(const std::string& path) override {
    std::vector<std::string> out;
    DIR* d = opendir(path.c_str());
    if (!d) return out;
    while (const dirent* e = readdir(d)) {
      const std::string name = e->d_name;
      if (name != "." && name != "..") out.push_back(name);
    }
    closedir(d);
    return out;
  }
  std::optional<std::string> read_file(const std::string& path) override {
    std::ifstream f(path);
    if (!f) return std::nullopt;
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }
};

}  // namespace

HostFacts& real_host_facts() {
  static RealHostFacts host;
  return host;
}

}  // namespace snare
