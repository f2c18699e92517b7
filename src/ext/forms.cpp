// Dispatch of every form over the variants (see forms.h).
#include "ext/forms.h"

#include <fmt/format.h>

#include <algorithm>
#include <concepts>
#include <type_traits>
#include <variant>
#include <vector>

#include "ext/connmark.h"
#include "ext/conntrack.h"
#include "ext/header.h"
#include "ext/mark.h"
#include "ext/multiport.h"
#include "ext/nft_json.h"
#include "ext/nft_nl.h"
#include "ext/owner.h"
#include "ext/set.h"
#include "ext/snat.h"
#include "ext/targets.h"
#include "ext/tcpudp.h"

namespace snare {
namespace {

template <typename T, typename Variant>
inline constexpr bool kAlternativeOf = false;
template <typename T, typename... Ts>
inline constexpr bool kAlternativeOf<T, std::variant<Ts...>> = (std::same_as<T, Ts> || ...);

// The forms of one alternative, checked one by one so that a missing form is one error naming
// the form; the compiler names the alternative (FormsOf<T>) in the instantiation. `ok` guards
// every dispatch below: when a form is missing, no call into Ext<T> is compiled, so that error
// is the only one.
template <typename T>
struct FormsOf {
  using E = Ext<T>;
  static constexpr bool kMatch = kAlternativeOf<T, Match>;
  static_assert(Specialized<E>, "this alternative has no Ext<T>: give it an extension file");
  static_assert(!Specialized<E> || HasRestoreForm<E, T>,
                "Ext<T> lacks restore(const T&, std::string&)");
  static_assert(!Specialized<E> || HasSaveForm<E, T>,
                "Ext<T> lacks save(const T&, SaveContext&, std::string&)");
  static_assert(!Specialized<E> || HasEncode<E, T>,
                "Ext<T> lacks encode(const T&, EntryWriter&) -> Status");
  static_assert(!Specialized<E> || HasNftForm<E, T>,
                "Ext<T> lacks nft(const T&, const NftContext&, std::string&)");
  static_assert(!Specialized<E> || HasNftExpr<E, T>,
                "Ext<T> lacks nft_expr(const T&, const NftContext&, Json&)");
  static_assert(!Specialized<E> || HasNftNl<E, T>,
                "Ext<T> lacks nft_nl(const T&, const NftContext&, std::vector<NlExpr>&)");
  static_assert(!Specialized<E> || !kMatch || HasSaveSlot<E, T>,
                "the match's Ext<T> lacks slot(const T&) -> SaveSlot");
  static_assert(
      !Specialized<E> || !kMatch || HasDecoder<E> || HasHeaderDecoder<E> || HasSharedDecoder<E>,
      "the match's Ext<T> needs kXt (its kernel extensions, with decode) or, read from "
      "the entry header, kXt{} and from_header(Family, const EntryHeader&, DecodedRule&), or, "
      "read by another alternative's decoder, kXt{} and `using DecodedBy = ThatAlternative;`");
  static_assert(!Specialized<E> || HasSharedDecoder<E> || HasSaveParse<E, T>,
                "Ext<T> lacks from_save(Family, std::string_view, std::vector<SaveOpt>&, "
                "DecodedRule&) -> bool");
  static_assert(!Specialized<E> || HasNftParse<E, T>,
                "Ext<T> lacks from_nft(Family, NftStmts, DecodedRule&) -> size_t");
  static_assert(!Specialized<E> || !kMatch || HasMatchEval<E, T>,
                "the match's Ext<T> lacks eval(const T&, const EvalContext&) -> MatchResult");
  static_assert(!Specialized<E> || kMatch || HasTargetEval<E, T>,
                "the target's Ext<T> lacks eval(const T&, EvalContext&) -> TargetResult");
  static_assert(!Specialized<E> || kMatch || HasEnteredChain<E, T>,
                "the target's Ext<T> lacks entered_chain(const T&) -> const std::string*");
  static_assert(!Specialized<E> || kMatch || HasDecoder<E>,
                "the target's Ext<T> needs a non-empty kXt (its kernel extension, with decode)");
  static constexpr bool ok = kMatch ? MatchExtension<T> : TargetExtension<T>;
};

// Checked over the whole variants: every alternative, whether or not a dispatch below uses it.
template <typename Variant>
struct AllForms;
template <typename... Ts>
struct AllForms<std::variant<Ts...>> {
  static constexpr bool ok = (FormsOf<Ts>::ok && ...);
};
[[maybe_unused]] constexpr bool kMatchForms = AllForms<Match>::ok;
[[maybe_unused]] constexpr bool kTargetForms = AllForms<Target>::ok;

template <typename T>
inline constexpr bool kChecked = FormsOf<T>::ok;

// Every kernel extension a variant's alternatives read back from, gathered from their Ext<>::kXt
// at compile time.
template <typename Variant>
struct Decoders;
template <typename... Ts>
struct Decoders<std::variant<Ts...>> {
  static std::vector<XtDecoder> all() {
    std::vector<XtDecoder> out;
    auto add = [&]<typename T>() {
      if constexpr (kChecked<T>) out.insert(out.end(), Ext<T>::kXt.begin(), Ext<T>::kXt.end());
    };
    (add.template operator()<Ts>(), ...);
    return out;
  }
  // The matches x_tables keeps in the entry header, each read by its extension, in
  // iptables-save's order (-s -d -i -o -p: their slots').
  static void from_header(Family family, const EntryHeader& h, DecodedRule& d) {
    auto read = [&]<typename T>() {
      if constexpr (kChecked<T> && HasHeaderDecoder<Ext<T>>) Ext<T>::from_header(family, h, d);
    };
    (read.template operator()<Ts>(), ...);
  }
};

// The alternative that reads a `-m NAME` or `-j NAME` of save text: one whose kXt lists the
// kernel extension NAME; with `standard`, one whose kXt lists the standard target (""). Where
// several list it, the first that reads the options whole (each one used) takes them, so that an
// option only one of them knows (a flag of the standard target's) picks that one; when none
// does, the first one's reading stands, its unused options then unsupported.
template <typename Variant>
struct SaveReaders;
template <typename... Ts>
struct SaveReaders<std::variant<Ts...>> {
  // The extensions that may read it, in the variant's order.
  using Reader = bool (*)(Family, std::string_view, std::vector<SaveOpt>&, DecodedRule&);
  static std::vector<Reader> readers(std::string_view name, bool standard) {
    std::vector<Reader> out;
    auto one = [&]<typename T>() {
      if constexpr (kChecked<T> && HasDecoder<Ext<T>>) {
        for (const XtDecoder& x : Ext<T>::kXt)
          if (standard ? *x.name == 0 : (*x.name != 0 && name == x.name)) {
            out.push_back(&Ext<T>::from_save);
            break;
          }
      }
    };
    (one.template operator()<Ts>(), ...);
    return out;
  }
  // Whether an alternative took it; `ok` false when it could not model the options.
  static bool read(Family f, std::string_view name, bool standard, std::vector<SaveOpt>& opts,
                   DecodedRule& d, bool& ok) {
    const std::vector<Reader> rs = readers(name, standard);
    if (rs.empty()) return false;
    if (rs.size() == 1) return ok = rs[0](f, name, opts, d), true;
    const std::vector<SaveOpt> given = opts;
    const DecodedRule before = d;
    for (size_t i = 0; i < rs.size(); ++i) {
      ok = rs[i](f, name, opts, d);
      auto used = [](const SaveOpt& o) { return o.used; };
      if (ok && std::all_of(opts.begin(), opts.end(), used)) return true;
      opts = given, d = before;
    }
    ok = rs[0](f, name, opts, d);
    return true;
  }
  static bool header(Family f, std::vector<SaveOpt>& opts, DecodedRule& d) {
    bool ok = true;
    auto one = [&]<typename T>() {
      if constexpr (kChecked<T> && HasHeaderDecoder<Ext<T>>)
        ok = Ext<T>::from_save(f, {}, opts, d) && ok;
    };
    (one.template operator()<Ts>(), ...);
    return ok;
  }
};

// The alternative whose from_nft form takes the statements at the front of `stmts`: how many it
// took, 0 when none does.
template <typename Variant>
struct NftReaders;
template <typename... Ts>
struct NftReaders<std::variant<Ts...>> {
  static size_t read(Family f, NftStmts stmts, DecodedRule& d) {
    size_t took = 0;
    auto one = [&]<typename T>() {
      if constexpr (kChecked<T>)
        if (took == 0) took = std::min(Ext<T>::from_nft(f, stmts, d), stmts.size());
    };
    (one.template operator()<Ts>(), ...);
    return took;
  }
};

// Options no extension took, as unsupported notes.
void unused_options(std::string_view where, const std::vector<SaveOpt>& opts, DecodedRule& d) {
  for (const SaveOpt& o : opts)
    if (!o.used)
      d.unsupported.push_back(fmt::format("{}{}{}", where, o.invert ? "! " : "", o.name));
}

const XtDecoder* find_decoder(const std::vector<XtDecoder>& table, const XtView& xt) {
  for (const XtDecoder& d : table)
    if (xt.name == d.name && xt.revision == d.revision) return &d;
  return nullptr;
}

void decode_header(Family family, const EntryHeader& h, DecodedRule& d) {
  Decoders<Match>::from_header(family, h, d);
  std::stable_sort(d.rule.matches.begin(), d.rule.matches.end(),
                   [](const Match& a, const Match& b) { return save_slot(a) < save_slot(b); });
  d.unsupported.insert(d.unsupported.end(), h.oddities.begin(), h.oddities.end());
}

}  // namespace

SaveOpt* take_opt(std::vector<SaveOpt>& opts, std::string_view name, size_t n, bool invertible) {
  for (SaveOpt& o : opts) {
    if (o.used || o.name != name || o.values.size() != n || (o.invert && !invertible)) continue;
    o.used = true;
    return &o;
  }
  return nullptr;
}

void restore_text(const Match& m, std::string& out) {
  std::visit(
      [&]<typename T>(const T& x) {
        if constexpr (kChecked<T>) Ext<T>::restore(x, out);
      },
      m);
}

void restore_text(const Target& t, std::string& out) {
  std::visit(
      [&]<typename T>(const T& x) {
        if constexpr (kChecked<T>) Ext<T>::restore(x, out);
      },
      t);
}

SaveSlot save_slot(const Match& m) {
  return std::visit(
      []<typename T>(const T& x) {
        if constexpr (kChecked<T>)
          return Ext<T>::slot(x);
        else
          return SaveSlot::xt_match;
      },
      m);
}

const std::string* entered_chain(const Target& t) {
  return std::visit(
      []<typename T>(const T& x) -> const std::string* {
        if constexpr (kChecked<T>)
          return Ext<T>::entered_chain(x);
        else
          return nullptr;
      },
      t);
}

MatchResult eval_match(const Match& m, const EvalContext& ctx) {
  return std::visit(
      [&]<typename T>(const T& x) {
        if constexpr (kChecked<T>)
          return Ext<T>::eval(x, ctx);
        else
          return MatchResult::unknown("no evaluation form");
      },
      m);
}

TargetResult eval_target(const Target& t, EvalContext& ctx) {
  return std::visit(
      [&]<typename T>(const T& x) {
        if constexpr (kChecked<T>)
          return Ext<T>::eval(x, ctx);
        else
          return TargetResult{TargetResult::Kind::unknown, {}, "no evaluation form"};
      },
      t);
}

void save_text(const Match& m, SaveContext& ctx, std::string& out) {
  if (!std::holds_alternative<PortMatch>(m)) ctx.open_l4 = {};
  std::visit(
      [&]<typename T>(const T& x) {
        if constexpr (kChecked<T>) Ext<T>::save(x, ctx, out);
      },
      m);
}

void save_text(const Target& t, SaveContext& ctx, std::string& out) {
  std::visit(
      [&]<typename T>(const T& x) {
        if constexpr (kChecked<T>) Ext<T>::save(x, ctx, out);
      },
      t);
}

void nft_text(const Match& m, const NftContext& ctx, std::string& out) {
  std::visit(
      [&]<typename T>(const T& x) {
        if constexpr (kChecked<T>) Ext<T>::nft(x, ctx, out);
      },
      m);
}

void nft_text(const Target& t, const NftContext& ctx, std::string& out) {
  std::visit(
      [&]<typename T>(const T& x) {
        if constexpr (kChecked<T>) Ext<T>::nft(x, ctx, out);
      },
      t);
}

void nft_exprs(const Rule& rule, Json& out) {
  const NftContext ctx{rule.scope};
  out = Json::array();
  auto expr = [&]<typename T>(const T& x) {
    if constexpr (kChecked<T>) Ext<T>::nft_expr(x, ctx, out);
  };
  for (const Match& m : rule.matches) std::visit(expr, m);
  std::visit(expr, rule.target);
}

void nft_nl_exprs(const Rule& rule, const NftContext& ctx, std::vector<NlExpr>& out) {
  // Why one NlDeps per rule: nft adds a match's implicit dependency (meta nfproto, meta
  // l4proto) only where nothing earlier in the same rule established it.
  NlDeps deps;
  NftContext c = ctx;
  c.scope = rule.scope;
  c.nl_deps = &deps;
  auto expr = [&]<typename T>(const T& x) {
    if constexpr (kChecked<T>) Ext<T>::nft_nl(x, c, out);
  };
  for (const Match& m : rule.matches) std::visit(expr, m);
  std::visit(expr, rule.target);
}

Status encode_rule(Family family, const Rule& rule, std::string& out) {
  // One working buffer for every entry this thread encodes.
  thread_local std::string scratch;
  EntryWriter w(family, scratch);
  auto fail = [&](const Status& s) {
    return Status::Fail(fmt::format("cannot encode a rule of {} {}: {}", table_name(rule.table),
                                    rule.chain, s.error));
  };
  auto encode = [&]<typename T>(const T& x) {
    if constexpr (kChecked<T>)
      return Ext<T>::encode(x, w);
    else
      return Status::Ok();
  };
  // The header first: the tcp/udp and multiport matches check the protocol in it.
  for (const Match& m : rule.matches)
    if (save_slot(m) != SaveSlot::xt_match)
      if (Status s = std::visit(encode, m); !s.ok()) return fail(s);
  for (const Match& m : rule.matches)
    if (save_slot(m) == SaveSlot::xt_match)
      if (Status s = std::visit(encode, m); !s.ok()) return fail(s);
  if (Status s = std::visit(encode, rule.target); !s.ok()) return fail(s);
  out = w.finish();
  return Status::Ok();
}

void resolve_kernel_ids(Rule& rule, const KernelIds& ids) {
  for (Match& m : rule.matches)
    std::visit(
        [&]<typename T>(T& x) {
          if constexpr (requires { Ext<T>::resolve(x, ids); }) Ext<T>::resolve(x, ids);
        },
        m);
}

void resolve_kernel_ids(Plan& plan, const KernelIds& ids) {
  for (Rule& r : plan.rules) resolve_kernel_ids(r, ids);
}

DecodedRule rule_from_save(Family family, SaveRuleParts& parts) {
  DecodedRule d;
  if (!SaveReaders<Match>::header(family, parts.header, d))
    d.unsupported.push_back("a header option's value");
  unused_options("", parts.header, d);
  for (auto& [name, opts] : parts.matches) {
    bool ok = true;
    if (!SaveReaders<Match>::read(family, name, false, opts, d, ok)) {
      d.unsupported.push_back(fmt::format("-m {}", name));
      continue;
    }
    if (!ok) d.unsupported.push_back(fmt::format("-m {} (its values)", name));
    unused_options(fmt::format("-m {} ", name), opts, d);
  }
  bool ok = true;
  if (parts.target.empty()) {
    d.unsupported.push_back("no target");
  } else if (!SaveReaders<Target>::read(family, parts.target, false, parts.target_opts, d, ok) &&
             !SaveReaders<Target>::read(family, parts.target, true, parts.target_opts, d, ok)) {
    d.unsupported.push_back(fmt::format("-j {}", parts.target));
  }
  if (!ok) d.unsupported.push_back(fmt::format("-j {} (its values)", parts.target));
  unused_options(fmt::format("-j {} ", parts.target), parts.target_opts, d);
  return d;
}

DecodedRule rule_from_nft(Family family, const Json& expr) {
  DecodedRule d;
  if (!expr.is_array()) {
    d.unsupported.push_back("its statements are not a list");
    return d;
  }
  const auto& list = expr.get_ref<const Json::array_t&>();
  const NftStmts all(list.data(), list.size());
  bool target = false;
  for (size_t i = 0; i < all.size();) {
    // Why nothing after the target is read: the model applies a rule's matches before its
    // target, and a statement after one (`meta mark set 1 tcp dport 80 accept`) is not that.
    size_t took = 0;
    if (!target) took = NftReaders<Match>::read(family, all.subspan(i), d);
    if (!target && took == 0) {
      took = NftReaders<Target>::read(family, all.subspan(i), d);
      target = took > 0;
    }
    if (took > 0) {
      i += took;
      continue;
    }
    std::string text = all[i].dump(-1, ' ', false, Json::error_handler_t::replace);
    if (text.size() > 80) {
      // Cut before a UTF-8 continuation byte, never inside a character: the note goes into JSON.
      size_t cut = 77;
      while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80) --cut;
      text = text.substr(0, cut) + "...";
    }
    d.unsupported.push_back(fmt::format("statement {} {}", i + 1, text));
    ++i;
  }
  if (!target) d.unsupported.push_back("no verdict or action snare models");
  return d;
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
