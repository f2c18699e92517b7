// The x_tables entry layout (see xt_entry.h). Layouts as iptables-legacy 1.8.9 writes them,
// verified byte-identical on Linux 6.18 (tests/root/conformance_kernel.sh reads them back).
#include "ext/xt_entry.h"

// glibc's network headers must come before the kernel's (linux/in.h, linux/if.h) or they clash.
// clang-format off
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/netfilter/x_tables.h>
#include <linux/netfilter_ipv4/ip_tables.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
// clang-format on
#include <fmt/format.h>

#include <cstring>

namespace snare {
namespace {

constexpr size_t align8(size_t n) { return (n + 7) & ~size_t{7}; }
static_assert(sizeof(xt_entry_match) == sizeof(xt_entry_target));

// Invert bits share values between ipt_ip and ip6t_ip6.
static_assert(IP6T_INV_SRCIP == IPT_INV_SRCIP && IP6T_INV_DSTIP == IPT_INV_DSTIP &&
              IP6T_INV_VIA_IN == IPT_INV_VIA_IN && IP6T_INV_VIA_OUT == IPT_INV_VIA_OUT);

struct V4 {
  using Entry = ipt_entry;
  static constexpr int addr_len = 4;
  static auto& ip(Entry* e) { return e->ip; }
  static const auto& ip(const Entry* e) { return e->ip; }
  static unsigned char* addr(Entry* e, bool src) {
    return reinterpret_cast<unsigned char*>(src ? &e->ip.src : &e->ip.dst);
  }
  static unsigned char* mask(Entry* e, bool src) {
    return reinterpret_cast<unsigned char*>(src ? &e->ip.smsk : &e->ip.dmsk);
  }
};

struct V6 {
  using Entry = ip6t_entry;
  static constexpr int addr_len = 16;
  static auto& ip(Entry* e) { return e->ipv6; }
  static const auto& ip(const Entry* e) { return e->ipv6; }
  static unsigned char* addr(Entry* e, bool src) {
    return reinterpret_cast<unsigned char*>(src ? &e->ipv6.src : &e->ipv6.dst);
  }
  static unsigned char* mask(Entry* e, bool src) {
    return reinterpret_cast<unsigned char*>(src ? &e->ipv6.smsk : &e->ipv6.dmsk);
  }
};

// Runs `f` with the traits of `family`.
template <typename F>
decltype(auto) with_family(Family family, F&& f) {
  if (family == Family::v4) return f(V4{});
  return f(V6{});
}

std::string cstr(const char* p, size_t max) { return std::string(p, strnlen(p, max)); }

bool set_iface(std::string_view name, char* via, unsigned char* mask) {
  if (name.empty() || name.size() >= IFNAMSIZ) return false;
  std::memcpy(via, name.data(), name.size());
  // `eth+` matches the prefix only; otherwise the NUL is part of the match (`lo` is not `lo0`).
  std::memset(mask, 0xff, name.back() == '+' ? name.size() - 1 : name.size() + 1);
  return true;
}

// The header of an entry copied to an aligned place (libiptc's buffer may not be).
template <typename F>
typename F::Entry header_copy(const void* raw) {
  typename F::Entry h;
  std::memcpy(&h, raw, sizeof h);
  return h;
}

}  // namespace

EntryWriter::EntryWriter(Family family, std::string& scratch) : family_(family), buf_(scratch) {
  const size_t header_size = family == Family::v4 ? sizeof(ipt_entry) : sizeof(ip6t_entry);
  // Reserved up front so that the buffer is on the heap (16-byte aligned, as ipt_entry needs);
  // istio's rules fit, and a longer one grows it (add() hands out pointers only until the next).
  buf_.reserve(256);
  buf_.assign(header_size, '\0');
}

unsigned char* EntryWriter::header() { return reinterpret_cast<unsigned char*>(buf_.data()); }

void EntryWriter::address(bool source, const unsigned char* addr, const unsigned char* mask,
                          bool invert) {
  with_family(family_, [&](auto f) {
    using F = decltype(f);
    auto* e = reinterpret_cast<typename F::Entry*>(header());
    for (int i = 0; i < F::addr_len; ++i) {
      F::addr(e, source)[i] = addr[i] & mask[i];
      F::mask(e, source)[i] = mask[i];
    }
    if (invert) F::ip(e).invflags |= source ? IPT_INV_SRCIP : IPT_INV_DSTIP;
  });
}

bool EntryWriter::iface(bool out, std::string_view name, bool invert) {
  return with_family(family_, [&](auto f) {
    using F = decltype(f);
    auto& ip = F::ip(reinterpret_cast<typename F::Entry*>(header()));
    bool ok = out ? set_iface(name, ip.outiface, ip.outiface_mask)
                  : set_iface(name, ip.iniface, ip.iniface_mask);
    if (invert) ip.invflags |= out ? IPT_INV_VIA_OUT : IPT_INV_VIA_IN;
    return ok;
  });
}

void EntryWriter::proto(uint16_t p) {
  if (family_ == Family::v4) {
    reinterpret_cast<ipt_entry*>(header())->ip.proto = p;
  } else {
    auto& ip = reinterpret_cast<ip6t_entry*>(header())->ipv6;
    ip.proto = p;
    // ip6_tables ignores proto unless this flag is set.
    ip.flags |= IP6T_F_PROTO;
  }
}

uint16_t EntryWriter::proto() const {
  const void* h = buf_.data();
  return family_ == Family::v4 ? static_cast<const ipt_entry*>(h)->ip.proto
                               : static_cast<const ip6t_entry*>(h)->ipv6.proto;
}

void* EntryWriter::add(const char* name, uint8_t revision, size_t payload) {
  const size_t size = align8(sizeof(xt_entry_match) + payload);
  const size_t off = buf_.size();
  buf_.resize(off + size, '\0');
  auto* m = reinterpret_cast<xt_entry_match*>(buf_.data() + off);
  m->u.user.match_size = static_cast<uint16_t>(size);
  std::strncpy(m->u.user.name, name, sizeof m->u.user.name - 1);
  m->u.user.revision = revision;
  return m->data;
}

void* EntryWriter::add_match(const char* name, uint8_t revision, size_t payload) {
  return add(name, revision, payload);
}

void* EntryWriter::find_match(std::string_view name) {
  const size_t header_size = family_ == Family::v4 ? sizeof(ipt_entry) : sizeof(ip6t_entry);
  for (size_t off = header_size; off < buf_.size();) {
    auto* m = reinterpret_cast<xt_entry_match*>(buf_.data() + off);
    if (name == m->u.user.name) return m->data;
    off += m->u.user.match_size;
  }
  return nullptr;
}

void* EntryWriter::add_target(const char* name, uint8_t revision, size_t payload) {
  target_offset_ = buf_.size();
  return add(name, revision, payload);
}

void EntryWriter::standard_target(std::string_view label) {
  target_offset_ = buf_.size();
  add("", 0, sizeof(int));
  auto* t = reinterpret_cast<xt_entry_target*>(buf_.data() + target_offset_);
  std::memcpy(t->u.user.name, label.data(), std::min(label.size(), sizeof t->u.user.name - 1));
}

std::string EntryWriter::finish() {
  const uint16_t target = static_cast<uint16_t>(target_offset_);
  const uint16_t next = static_cast<uint16_t>(buf_.size());
  if (family_ == Family::v4) {
    auto* e = reinterpret_cast<ipt_entry*>(header());
    e->target_offset = target, e->next_offset = next;
  } else {
    auto* e = reinterpret_cast<ip6t_entry*>(header());
    e->target_offset = target, e->next_offset = next;
  }
  // A copy of its own size: the working buffer has room to grow, and an apply keeps thousands.
  return std::string(buf_.data(), buf_.size());
}

EntryHeader read_header(Family family, const void* raw) {
  return with_family(family, [&](auto f) {
    using F = decltype(f);
    auto e = header_copy<F>(raw);
    const auto& ip = F::ip(&e);
    EntryHeader h;
    std::memcpy(h.src, F::addr(&e, true), F::addr_len);
    std::memcpy(h.smsk, F::mask(&e, true), F::addr_len);
    std::memcpy(h.dst, F::addr(&e, false), F::addr_len);
    std::memcpy(h.dmsk, F::mask(&e, false), F::addr_len);
    h.iniface = cstr(ip.iniface, IFNAMSIZ);
    h.outiface = cstr(ip.outiface, IFNAMSIZ);
    h.proto = ip.proto;
    h.inv_src = ip.invflags & IPT_INV_SRCIP, h.inv_dst = ip.invflags & IPT_INV_DSTIP;
    h.inv_in = ip.invflags & IPT_INV_VIA_IN, h.inv_out = ip.invflags & IPT_INV_VIA_OUT;
    if (ip.invflags & XT_INV_PROTO) h.oddities.push_back("! -p");
    if constexpr (F::addr_len == 4) {
      if (ip.flags & IPT_F_FRAG) h.oddities.push_back(ip.invflags & IPT_INV_FRAG ? "! -f" : "-f");
      if (ip.flags & IPT_F_GOTO) h.oddities.push_back("-g");
    } else {
      if (ip.flags & IP6T_F_GOTO) h.oddities.push_back("-g");
      if (ip.flags & IP6T_F_TOS) h.oddities.push_back("--tos");
      if (ip.proto && !(ip.flags & IP6T_F_PROTO)) h.oddities.push_back("-p without IP6T_F_PROTO");
    }
    return h;
  });
}

std::vector<XtView> read_matches(Family family, const void* raw) {
  return with_family(family, [&](auto f) {
    using F = decltype(f);
    auto e = header_copy<F>(raw);
    const auto* base = static_cast<const unsigned char*>(raw);
    std::vector<XtView> out;
    for (size_t off = sizeof e; off + sizeof(xt_entry_match) <= e.target_offset;) {
      xt_entry_match m;
      std::memcpy(&m, base + off, sizeof m);
      if (m.u.user.match_size < sizeof m) break;
      XtView& v = out.emplace_back();
      v.name = cstr(m.u.user.name, sizeof m.u.user.name);
      v.revision = m.u.user.revision;
      v.data = base + off + sizeof m;
      v.size = m.u.user.match_size - sizeof m;
      off += m.u.user.match_size;
    }
    return out;
  });
}

XtView read_target(Family family, const void* raw) {
  return with_family(family, [&](auto f) {
    using F = decltype(f);
    auto e = header_copy<F>(raw);
    const auto* base = static_cast<const unsigned char*>(raw);
    XtView v;
    if (e.target_offset + sizeof(xt_entry_target) > e.next_offset) return v;
    xt_entry_target t;
    std::memcpy(&t, base + e.target_offset, sizeof t);
    v.name = cstr(t.u.user.name, sizeof t.u.user.name);
    v.revision = t.u.user.revision;
    v.data = base + e.target_offset + sizeof t;
    v.size = t.u.user.target_size >= sizeof t ? t.u.user.target_size - sizeof t : 0;
    return v;
  });
}

std::string normalize_entry(Family family, const void* raw, const char* label, uint64_t& packets,
                            uint64_t& octets) {
  return with_family(family, [&](auto f) {
    using F = decltype(f);
    auto h = header_copy<F>(raw);
    std::string out(static_cast<const char*>(raw), h.next_offset);
    auto* e = reinterpret_cast<typename F::Entry*>(out.data());
    e->comefrom = 0;
    packets = e->counters.pcnt, octets = e->counters.bcnt;
    e->counters = {};
    // Zero what follows each name's NUL: the kernel leaves heap garbage there.
    auto clean_name = [](char* name, size_t len) {
      const size_t n = strnlen(name, len);
      std::memset(name + n, 0, len - n);
    };
    for (size_t off = sizeof h; off + sizeof(xt_entry_match) <= h.target_offset;) {
      auto* m = reinterpret_cast<xt_entry_match*>(out.data() + off);
      if (m->u.user.match_size < sizeof(xt_entry_match)) break;
      clean_name(m->u.user.name, sizeof m->u.user.name);
      off += m->u.user.match_size;
    }
    if (h.target_offset + sizeof(xt_entry_target) <= h.next_offset) {
      auto* t = reinterpret_cast<xt_entry_target*>(out.data() + h.target_offset);
      clean_name(t->u.user.name, sizeof t->u.user.name);
      if (t->u.user.name[0] == 0 && label && *label &&
          size_t(h.next_offset - h.target_offset) >= sizeof(xt_standard_target)) {
        // Standard target: name it by its label; the verdict (or jump offset) is libiptc's job.
        std::strncpy(t->u.user.name, label, sizeof t->u.user.name - 1);
        std::memset(out.data() + h.target_offset + sizeof(xt_entry_target), 0, sizeof(int));
      }
    }
    return out;
  });
}

std::string with_counters(Family family, const std::string& entry, uint64_t packets,
                          uint64_t octets) {
  std::string out = entry;
  with_family(family, [&](auto f) {
    using F = decltype(f);
    auto* e = reinterpret_cast<typename F::Entry*>(out.data());
    e->counters.pcnt = packets, e->counters.bcnt = octets;
  });
  return out;
}

std::vector<ExtensionRef> entry_extensions(Family family, const std::string& entry) {
  std::vector<ExtensionRef> out;
  for (const XtView& m : read_matches(family, entry.data()))
    out.push_back({false, m.name, m.revision});
  XtView t = read_target(family, entry.data());
  // The standard target (jump, verdict) needs no module; MARK rev 2 has its size, hence by name.
  if (!t.name.empty() &&
      (t.size + sizeof(xt_entry_target) != XT_ALIGN(sizeof(xt_standard_target)) ||
       t.name == "MARK"))
    out.push_back({true, t.name, t.revision});
  return out;
}

std::string cidr_text(Family f, const unsigned char* addr, const unsigned char* mask) {
  const int bytes = f == Family::v4 ? 4 : 16;
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(f == Family::v4 ? AF_INET : AF_INET6, addr, buf, sizeof buf);
  int prefix = 0;
  bool contiguous = true;
  for (int i = 0; i < bytes * 8; i++) {
    const bool bit = mask[i / 8] & (0x80 >> (i % 8));
    if (bit && prefix != i) contiguous = false;
    if (bit) prefix++;
  }
  if (contiguous) return fmt::format("{}/{}", buf, prefix);
  char mbuf[INET6_ADDRSTRLEN] = {};
  inet_ntop(f == Family::v4 ? AF_INET : AF_INET6, mask, mbuf, sizeof mbuf);
  return fmt::format("{}/{}", buf, mbuf);
}

}  // namespace snare
