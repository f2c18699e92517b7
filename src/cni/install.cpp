// `snare-cni install`: placeholder until the bundle installer lands (see the README).
#include <cstdio>
#include <string>
#include <vector>

namespace snare::cni {

int install(const std::vector<std::string>&) {
  std::fputs("snare-cni install: not built yet\n", stderr);
  return 1;
}

}  // namespace snare::cni
