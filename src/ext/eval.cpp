// The evaluation form's shared pieces (see eval.h).
#include "ext/eval.h"

#include <fmt/format.h>

namespace snare {

const char* hook_name(Hook h) {
  switch (h) {
    case Hook::prerouting:
      return "PREROUTING";
    case Hook::input:
      return "INPUT";
    case Hook::output:
      return "OUTPUT";
    case Hook::postrouting:
      return "POSTROUTING";
  }
  return "?";
}

std::string addr_port_text(const IpAddr& a, uint16_t port) {
  return a.v6 ? fmt::format("[{}]:{}", a.text(), port) : fmt::format("{}:{}", a.text(), port);
}

bool in_prefix(const IpAddr& a, const Prefix& p) {
  if (a.v6 != p.addr.v6) return false;
  for (int i = 0, bits = p.len; bits > 0; ++i, bits -= 8) {
    const unsigned mask = bits >= 8 ? 0xffu : (0xffu << (8 - bits)) & 0xffu;
    if ((a.bytes[i] & mask) != (p.addr.bytes[i] & mask)) return false;
  }
  return true;
}

IpAddr loopback_addr(bool v6) {
  IpAddr a;
  a.v6 = v6;
  if (v6)
    a.bytes[15] = 1;
  else
    a.bytes[0] = 127, a.bytes[3] = 1;
  return a;
}

}  // namespace snare
