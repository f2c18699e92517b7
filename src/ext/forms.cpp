// Dispatch of every form over the variants (see forms.h).
#include "ext/forms.h"

#include <fmt/format.h>

#include <algorithm>
#include <type_traits>
#include <vector>

#include "ext/connmark.h"
#include "ext/conntrack.h"
#include "ext/header.h"
#include "ext/mark.h"
#include "ext/multiport.h"
#include "ext/nft_json.h"
#include "ext/owner.h"
#include "ext/set.h"
#include "ext/snat.h"
#include "ext/targets.h"
#include "ext/tcpudp.h"

namespace snare {
namespace {

template <typename V>
using Alt = std::decay_t<V>;

// Every kernel extension a variant's alternatives read back from, gathered from their Ext<>::kXt
// at compile time.
template <typename Variant>
struct Decoders;
template <typename... Ts>
struct Decoders<std::variant<Ts...>> {
  static std::vector<XtDecoder> all() {
    std::vector<XtDecoder> out;
    (out.insert(out.end(), Ext<Ts>::kXt.begin(), Ext<Ts>::kXt.end()), ...);
    return out;
  }
};

const XtDecoder* find_decoder(const std::vector<XtDecoder>& table, const XtView& xt) {
  for (const XtDecoder& d : table)
    if (xt.name == d.name && xt.revision == d.revision) return &d;
  return nullptr;
}

}  // namespace

void restore_text(const Match& m, std::string& out) {
  std::visit([&](const auto& x) { Ext<Alt<decltype(x)>>::restore(x, out); }, m);
}

void restore_text(const Target& t, std::string& out) {
  std::visit([&](const auto& x) { Ext<Alt<decltype(x)>>::restore(x, out); }, t);
}

SaveSlot save_slot(const Match& m) {
  return std::visit([](const auto& x) { return Ext<Alt<decltype(x)>>::slot(x); }, m);
}

void save_text(const Match& m, SaveContext& ctx, std::string& out) {
  if (!std::holds_alternative<PortMatch>(m)) ctx.open_l4 = {};
  std::visit([&](const auto& x) { Ext<Alt<decltype(x)>>::save(x, ctx, out); }, m);
}

void save_text(const Target& t, SaveContext& ctx, std::string& out) {
  std::visit([&](const auto& x) { Ext<Alt<decltype(x)>>::save(x, ctx, out); }, t);
}

void nft_text(const Match& m, const NftContext& ctx, std::string& out) {
  std::visit([&](const auto& x) { Ext<Alt<decltype(x)>>::nft(x, ctx, out); }, m);
}

void nft_text(const Target& t, const NftContext& ctx, std::string& out) {
  std::visit([&](const auto& x) { Ext<Alt<decltype(x)>>::nft(x, ctx, out); }, t);
}

void nft_exprs(const Rule& rule, Json& out) {
  const NftContext ctx{rule.scope};
  out = Json::array();
  for (const Match& m : rule.matches)
    std::visit([&](const auto& x) { Ext<Alt<decltype(x)>>::nft_expr(x, ctx, out); }, m);
  std::visit([&](const auto& x) { Ext<Alt<decltype(x)>>::nft_expr(x, ctx, out); }, rule.target);
}

Status encode_rule(Family family, const Rule& rule, std::string& out) {
  // One working buffer for every entry this thread encodes.
  thread_local std::string scratch;
  EntryWriter w(family, scratch);
  auto fail = [&](const Status& s) {
    return Status::Fail(fmt::format("cannot encode a rule of {} {}: {}", table_name(rule.table),
                                    rule.chain, s.error));
  };
  // The header first: the tcp/udp and multiport matches check the protocol in it.
  for (const Match& m : rule.matches)
    if (save_slot(m) != SaveSlot::xt_match)
      if (Status s =
              std::visit([&](const auto& x) { return Ext<Alt<decltype(x)>>::encode(x, w); }, m);
          !s.ok())
        return fail(s);
  for (const Match& m : rule.matches)
    if (save_slot(m) == SaveSlot::xt_match)
      if (Status s =
              std::visit([&](const auto& x) { return Ext<Alt<decltype(x)>>::encode(x, w); }, m);
          !s.ok())
        return fail(s);
  if (Status s = std::visit([&](const auto& x) { return Ext<Alt<decltype(x)>>::encode(x, w); },
                            rule.target);
      !s.ok())
    return fail(s);
  out = w.finish();
  return Status::Ok();
}

DecodedRule decode_entry(Family family, const void* entry, const char* target_label) {
  static const std::vector<XtDecoder> kMatches = Decoders<Match>::all();
  static const std::vector<XtDecoder> kTargets = Decoders<Target>::all();
  DecodedRule d;
  decode_header(family, read_header(family, entry), d);
  for (const XtView& m : read_matches(family, entry)) {
    const XtDecoder* dec = find_decoder(kMatches, m);
    if (!dec || !dec->decode(family, m, d))
      d.unsupported.push_back(fmt::format("-m {} (rev {})", m.name, m.revision));
  }
  XtView t = read_target(family, entry);
  t.label = target_label ? target_label : "";
  const XtDecoder* dec = find_decoder(kTargets, t);
  if (!dec || !dec->decode(family, t, d)) {
    d.unsupported.push_back(t.name.empty() ? std::string("no target")
                                           : fmt::format("-j {} (rev {})", t.name, t.revision));
    if (!t.name.empty()) d.rule.target = JumpTarget{t.name};
  }
  return d;
}

}  // namespace snare
