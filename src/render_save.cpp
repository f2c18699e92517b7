// Save-form renderer (see render_save.h).
#include "render_save.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdint>

namespace snare {
namespace {

// Marks, ports and zones were validated by Config; here they only change spelling.
uint32_t parse_u32(const std::string& s) {
  uint32_t v = 0;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    std::from_chars(s.data() + 2, s.data() + s.size(), v, 16);
  } else {
    std::from_chars(s.data(), s.data() + s.size(), v, 10);
  }
  return v;
}

std::string hex(const std::string& mark) { return fmt::format("{:#x}", parse_u32(mark)); }

// "80" → "80", "1000:2000" → "1000:2000", "080" → "80".
std::string port_text(const std::string& p) {
  auto colon = p.find(':');
  if (colon == std::string::npos) return std::to_string(parse_u32(p));
  return fmt::format("{}:{}", parse_u32(p.substr(0, colon)), parse_u32(p.substr(colon + 1)));
}

bool is_proto_part(const Match& m) {
  return std::holds_alternative<AddrMatch>(m) || std::holds_alternative<IfaceMatch>(m) ||
         std::holds_alternative<ProtoMatch>(m);
}

}  // namespace

std::string canonical_cidr(const std::string& cidr, Family family) {
  auto slash = cidr.find('/');
  std::string addr = cidr.substr(0, slash);
  const int max = family == Family::v4 ? 32 : 128;
  int len = max;
  if (slash != std::string::npos) {
    auto [p, ec] = std::from_chars(cidr.data() + slash + 1, cidr.data() + cidr.size(), len);
    if (ec != std::errc() || p != cidr.data() + cidr.size() || len < 0 || len > max) return cidr;
  }
  unsigned char buf[16] = {};
  int af = family == Family::v4 ? AF_INET : AF_INET6;
  if (inet_pton(af, addr.c_str(), buf) != 1) return cidr;
  const int bytes = max / 8;
  for (int i = 0; i < bytes; ++i) {
    int keep = len - i * 8;
    if (keep >= 8) continue;
    buf[i] &= keep <= 0 ? 0 : static_cast<unsigned char>(0xff << (8 - keep));
  }
  char text[INET6_ADDRSTRLEN];
  inet_ntop(af, buf, text, sizeof text);
  return fmt::format("{}/{}", text, len);
}

std::string render_save_rule(const Rule& rule, Family family) {
  std::string out = "-A " + rule.chain;
  // Why this order: iptables prints the ipt_entry header fields (-s -d -i -o -p) first, then
  // each match in the order it sits in the entry, then the target.
  for (const Match& m : rule.matches) {
    if (auto* a = std::get_if<AddrMatch>(&m); a && a->source) {
      out += fmt::format(" {}-s {}", a->invert ? "! " : "", canonical_cidr(a->cidr, family));
    }
  }
  for (const Match& m : rule.matches) {
    if (auto* a = std::get_if<AddrMatch>(&m); a && !a->source) {
      out += fmt::format(" {}-d {}", a->invert ? "! " : "", canonical_cidr(a->cidr, family));
    }
  }
  for (bool want_out : {false, true}) {
    for (const Match& m : rule.matches) {
      if (auto* i = std::get_if<IfaceMatch>(&m); i && i->out == want_out) {
        out += fmt::format(" {}{} {}", i->invert ? "! " : "", i->out ? "-o" : "-i", i->name);
      }
    }
  }
  std::string proto;
  for (const Match& m : rule.matches) {
    if (auto* p = std::get_if<ProtoMatch>(&m)) {
      proto = p->name;
      out += " -p " + p->name;
    }
  }
  // The implicit tcp/udp match takes every --sport/--dport option; it sits where the first one
  // was written and prints --sport before --dport.
  bool proto_match_done = false;
  for (const Match& m : rule.matches) {
    if (is_proto_part(m)) continue;
    if (std::holds_alternative<PortMatch>(m)) {
      if (proto_match_done) continue;
      proto_match_done = true;
      out += " -m " + proto;
      for (bool want_source : {true, false}) {
        for (const Match& n : rule.matches) {
          if (auto* p = std::get_if<PortMatch>(&n); p && p->source == want_source) {
            out += fmt::format(" {}{} {}", p->invert ? "! " : "", p->source ? "--sport" : "--dport",
                               port_text(p->port));
          }
        }
      }
    } else if (auto* mp = std::get_if<MultiportMatch>(&m)) {
      std::vector<std::string> ports;
      for (const auto& p : mp->ports) ports.push_back(port_text(p));
      out +=
          fmt::format(" -m multiport {}--dports {}", mp->invert ? "! " : "", fmt::join(ports, ","));
    } else if (auto* o = std::get_if<OwnerMatch>(&m)) {
      out += fmt::format(" -m owner {}{} {}", o->invert ? "! " : "",
                         o->gid ? "--gid-owner" : "--uid-owner", o->id);
    } else if (auto* mk = std::get_if<MarkMatch>(&m)) {
      out += fmt::format(" -m mark {}--mark {}", mk->invert ? "! " : "", hex(mk->mark));
    } else if (auto* cm = std::get_if<ConnmarkMatch>(&m)) {
      out += " -m connmark --mark " + hex(cm->mark);
    } else if (auto* ct = std::get_if<ConntrackMatch>(&m)) {
      out += fmt::format(" -m conntrack --ctstate {}", fmt::join(ct->states, ","));
    }
  }
  if (auto* j = std::get_if<JumpTarget>(&rule.target)) {
    out += " -j " + j->chain;
  } else if (auto* r = std::get_if<RedirectTarget>(&rule.target)) {
    std::string p = port_text(r->port);
    std::replace(p.begin(), p.end(), ':', '-');
    out += " -j REDIRECT --to-ports " + p;
  } else if (auto* t = std::get_if<TproxyTarget>(&rule.target)) {
    out += fmt::format(" -j TPROXY --on-port {} --on-ip {} --tproxy-mark {}/0xffffffff",
                       port_text(t->port), family == Family::v4 ? "0.0.0.0" : "::", hex(t->mark));
  } else if (auto* mt = std::get_if<MarkTarget>(&rule.target)) {
    out += fmt::format(" -j MARK --set-xmark {}/0xffffffff", hex(mt->mark));
  } else if (auto* c = std::get_if<ConnmarkTarget>(&rule.target)) {
    out += fmt::format(" -j CONNMARK {} --nfmask 0xffffffff --ctmask 0xffffffff",
                       c->restore ? "--restore-mark" : "--save-mark");
  } else if (auto* z = std::get_if<CtZoneTarget>(&rule.target)) {
    out += fmt::format(" -j CT --zone {}", z->zone);
  }
  return out;
}

std::string render_save_table(const TableImage& table, Family family) {
  std::string out = fmt::format("*{}\n", table_name(table.table));
  for (const Chain& c : table.chains) {
    out += fmt::format(":{} {} [0:0]\n", c.name, c.builtin ? "ACCEPT" : "-");
  }
  for (const Chain& c : table.chains) {
    for (const Rule& r : c.rules) out += render_save_rule(r, family) + "\n";
  }
  out += "COMMIT\n";
  return out;
}

std::string render_save(const std::vector<TableImage>& tables, Family family) {
  std::string out;
  for (const TableImage& t : tables) out += render_save_table(t, family);
  return out;
}

}  // namespace snare
