// istio-cni as `snare-cni install` puts it in a node's CNI bin directory: a static executable
// that runs the bundled snare-cni through the bundled dynamic loader and libraries
// (<bin dir>/snare-cni.d/), so the plugin needs nothing from the node: no iptables or nft
// binaries, no libiptc, libnftables or OpenSSL, any glibc. If the bundle cannot run, it answers
// the runtime with a CNI error object, as the plugin would.
#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  char self[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  std::string dir = n > 0 ? std::string(self, static_cast<size_t>(n)) : std::string(argv[0]);
  dir = dir.substr(0, dir.find_last_of('/'));
  const std::string bundle = dir + "/snare-cni.d";
  const std::string loader = bundle + "/ld-linux-x86-64.so.2", plugin = bundle + "/snare-cni";
  std::vector<const char*> args = {loader.c_str(), "--library-path", bundle.c_str(),
                                   "--argv0",      argv[0],          plugin.c_str()};
  for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
  args.push_back(nullptr);
  execv(loader.c_str(), const_cast<char* const*>(args.data()));
  const int err = errno;
  std::printf(
      "{\"cniVersion\":\"1.0.0\",\"code\":999,\"msg\":\"istio-cni (snare): cannot run %s: "
      "%s; reinstall with snare-cni install\"}\n",
      loader.c_str(), std::strerror(err));
  return 1;
}
