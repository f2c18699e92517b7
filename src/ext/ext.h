// Kernel extensions: where each match and target of the model has its forms (docs/DESIGN.md,
// "Extensions"). Like iptables' extensions/ folder, one file per extension (owner.cpp,
// tcpudp.cpp, mark.cpp for the mark match and the MARK target, ...), each with a uniform
// interface: a specialization Ext<T> for every alternative T of Match and Target, holding
//
//   restore(const T&, std::string&)            istio's iptables-restore spelling (the dry-run)
//   save(const T&, SaveContext&, std::string&)  iptables-save's spelling (the kernel's form)
//   encode(const T&, EntryWriter&) -> Status    its part of an ipt_entry / ip6t_entry
//   kXt / decode(...)                           which kernel extension it reads back from, and how
//   nft(const T&, const NftContext&, std::string&)  istio's nftables spelling (knftables text)
//   nft_expr(const T&, const NftContext&, Json&)     the expressions `nft -j list` shows for it
//   nft_nl(const T&, const NftContext&, std::vector<NlExpr>&)  the nf_tables expressions nft
//         1.0.6 sends for its nftables text (model/netlink_form.h), implicit dependencies
//         included once per rule (ext/nft_nl.h)
//   from_save(Family, std::string_view name, std::vector<SaveOpt>&, DecodedRule&) -> bool
//         the options iptables-save prints for it, read back (`snare trace --rules`); an
//         alternative with kernel extensions of its own (kXt) or read from the header has it
//   from_nft(Family, NftStmts, DecodedRule&) -> size_t
//         the statements its nft_expr form writes, as `nft -j list` prints them, read back
//         (`snare trace` of an nftables rule set): how many at the front it took, 0 for none
//   eval: a match's  eval(const T&, const EvalContext&) -> MatchResult   whether a packet matches
//         a target's eval(const T&, EvalContext&) -> TargetResult       what it does to one
//   matches:  slot(const T&) -> SaveSlot        where it sits in an entry; a match read from the
//             entry header has kXt{} and from_header(Family, const EntryHeader&, DecodedRule&);
//             one read by another alternative's decoder has kXt{} and `using DecodedBy = U`
//   targets:  entered_chain(const T&) -> const std::string*   the user chain it enters (`-j X`
//             and a goto do), nullptr for a verdict or an action
//   optional: resolve(T&, const KernelIds&)    fills in a number the kernel assigns (an ipset's
//             index), so that encode and decode stay pure (below, KernelIds)
//
// Each form is a concept below (HasRestoreForm, ...), and MatchExtension / TargetExtension say
// which a match's and a target's Ext<T> needs. ext/forms.cpp checks them for every alternative
// of the variants (one static_assert per form, naming the alternative) before it dispatches, so
// an alternative added to Match or Target does not compile until each of its forms exists. Text
// forms append to `out` without a separating space; the dispatcher adds it.
#pragma once

#include <array>
#include <concepts>
#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "base/status.h"
#include "ext/eval.h"
#include "ext/xt_entry.h"
#include "model/netlink_form.h"
#include "model/rule.h"

namespace snare {

template <typename T>
struct Ext;  // no definition: every match and target specializes it

// Where a match lives in the kernel entry, which orders iptables-save's output: the header
// fields first (-s -d -i -o -p), then the xt matches in the order they sit in the entry.
enum class SaveSlot { source, destination, in_iface, out_iface, proto, xt_match };

// State across one rule's save form: the tcp/udp match takes every --sport/--dport option of a
// rule, printed once as `-m tcp` where the first one was.
struct SaveContext {
  Family family = Family::v4;
  std::string_view open_l4;  // "tcp"/"udp" right after a port option; empty otherwise
};

struct NlDeps;  // ext/nft_nl.h

// State across one rule's nftables forms: the family the rule is for (TPROXY writes `tproxy ip`
// or `tproxy ip6`).
struct NftContext {
  Scope scope = Scope::both;
  bool numeric_ids = false;  // owner ids as numbers (an apply's transaction), not as spelled
  // The netlink form's dependencies the rule has established so far (the dispatcher's, one per
  // rule); null outside nft_nl forms.
  NlDeps* nl_deps = nullptr;
};

// A rule's expressions as libnftables lists them in JSON: an array of statement objects.
using Json = nlohmann::json;

// Names a kernel entry keeps as numbers: an ipset's index in the namespace's ip_set table. The
// kernel layer answers for the namespace being written (kernel/ipset.h); nullopt: no such set
// (or index). An extension whose kernel form holds such a number has `resolve(T&, const
// KernelIds&)`, called before encoding and after decoding (ext/forms.h's resolve_kernel_ids).
struct KernelIds {
  std::function<std::optional<uint16_t>(const std::string& set)> set_index;
  std::function<std::optional<std::string>(uint16_t index)> set_name;
};

// A rule's statements from the one at hand on (`nft -j list`'s "expr" array, ext/nft_json.h),
// never empty when an extension's from_nft form sees it.
using NftStmts = std::span<const Json>;

// What decoding one kernel entry produced.
struct DecodedRule {
  Rule rule;                             // insert_at 0; table and chain left to the caller
  std::vector<std::string> unsupported;  // e.g. "-m comment (rev 0)"; empty: fully modelled
};

// One option of an iptables-save rule, `[!] --name value...` (a header option: `[!] -s value`).
// The extension that reads it sets `used`; an option nobody used makes the rule unmodelled.
struct SaveOpt {
  bool invert = false;
  std::string_view name;
  std::vector<std::string_view> values;
  bool used = false;
};

// The option `name` of `opts` not yet used, with `n` values and, unless `invertible`, not
// negated: marked used and returned; nullptr when there is none.
SaveOpt* take_opt(std::vector<SaveOpt>& opts, std::string_view name, size_t n = 1,
                  bool invertible = true);

// The kernel extension an alternative is read back from: its name and revision, and the
// function that turns one of its payloads into matches (or the target). A header match has an
// empty name and reads the entry's header instead.
struct XtDecoder {
  const char* name;
  int revision;
  // Returns false when the payload holds something snare does not model.
  bool (*decode)(Family family, const XtView& xt, DecodedRule& out);
};

// --- the forms, one concept each, over an extension E = Ext<T> of an alternative T ---------

// Ext<T> is specialized: the primary template has no definition.
template <typename E>
concept Specialized = requires {
  sizeof(E);
};

template <typename E, typename T>
concept HasRestoreForm = requires(const T& x, std::string& out) {
  { E::restore(x, out) } -> std::same_as<void>;
};

template <typename E, typename T>
concept HasSaveForm = requires(const T& x, SaveContext& ctx, std::string& out) {
  { E::save(x, ctx, out) } -> std::same_as<void>;
};

template <typename E, typename T>
concept HasEncode = requires(const T& x, EntryWriter& w) {
  { E::encode(x, w) } -> std::same_as<Status>;
};

template <typename E, typename T>
concept HasNftForm = requires(const T& x, const NftContext& ctx, std::string& out) {
  { E::nft(x, ctx, out) } -> std::same_as<void>;
};

template <typename E, typename T>
concept HasNftExpr = requires(const T& x, const NftContext& ctx, Json& out) {
  { E::nft_expr(x, ctx, out) } -> std::same_as<void>;
};

template <typename E, typename T>
concept HasNftNl = requires(const T& x, const NftContext& ctx, std::vector<NlExpr>& out) {
  { E::nft_nl(x, ctx, out) } -> std::same_as<void>;
};

template <typename E, typename T>
concept HasSaveSlot = requires(const T& x) {
  { E::slot(x) } -> std::same_as<SaveSlot>;
};

template <typename E, typename T>
concept HasEnteredChain = requires(const T& x) {
  { E::entered_chain(x) } -> std::same_as<const std::string*>;
};

// Its iptables-save options read back: `name` is the module or target name (`tcp`, `REDIRECT`,
// the chain or verdict of the standard target; empty for the header's options). False: a value
// the model cannot hold (the rule is then unmodelled).
template <typename E, typename T>
concept HasSaveParse = requires(Family f, std::string_view name, std::vector<SaveOpt>& opts,
                                DecodedRule& out) {
  { E::from_save(f, name, opts, out) } -> std::same_as<bool>;
};

// Its nftables statements read back: the statements at the front of `stmts` that its nft_expr
// form writes (a target's counter with it), turned into the alternative; returns how many it
// took, 0 when they are not its own or hold a value the model cannot (`out` then unchanged).
// A statement no alternative takes makes the rule unmodelled (ext/forms.h's rule_from_nft).
template <typename E, typename T>
concept HasNftParse = requires(Family f, NftStmts stmts, DecodedRule& out) {
  { E::from_nft(f, stmts, out) } -> std::same_as<size_t>;
};

// What the match says of a packet (ext/eval.h), for `snare trace`.
template <typename E, typename T>
concept HasMatchEval = requires(const T& x, const EvalContext& ctx) {
  { E::eval(x, ctx) } -> std::same_as<MatchResult>;
};

// What the target does to a packet and where the walk goes on (ext/eval.h).
template <typename E, typename T>
concept HasTargetEval = requires(const T& x, EvalContext& ctx) {
  { E::eval(x, ctx) } -> std::same_as<TargetResult>;
};

template <typename A>
inline constexpr size_t kDecoderCount = 0;
template <size_t N>
inline constexpr size_t kDecoderCount<std::array<XtDecoder, N>> = N;

// kXt lists at least one kernel extension to read the alternative back from.
template <typename E>
concept HasDecoder = kDecoderCount<std::remove_cvref_t<decltype(E::kXt)>> >
0;

// A match x_tables keeps in the entry's header: no kernel extension of its own (kXt{}), read
// back by from_header. Only a match may be one: an empty kXt elsewhere does not compile.
template <typename E>
concept HasHeaderDecoder =
    std::same_as<std::remove_cvref_t<decltype(E::kXt)>, std::array<XtDecoder, 0>> &&
    requires(Family f, const EntryHeader& h, DecodedRule& out) {
  { E::from_header(f, h, out) } -> std::same_as<void>;
};

// A match read back by another alternative's decoder, from that alternative's kernel extension
// (the tcp match without a port, read by the port match's decoder): kXt{} and `using DecodedBy =
// U`, where U's extension lists the kernel extension. Said explicitly, so that an empty kXt is
// never an oversight.
template <typename E>
concept HasSharedDecoder =
    std::same_as<std::remove_cvref_t<decltype(E::kXt)>, std::array<XtDecoder, 0>> && requires {
  typename E::DecodedBy;
} && HasDecoder<Ext<typename E::DecodedBy>>;

// Every form a match's and a target's extension has.
template <typename T>
concept MatchExtension = Specialized<Ext<T>> && HasRestoreForm<Ext<T>, T> &&
    HasSaveForm<Ext<T>, T> && HasEncode<Ext<T>, T> && HasNftForm<Ext<T>, T> &&
    HasNftExpr<Ext<T>, T> && HasNftNl<Ext<T>, T> && HasSaveSlot<Ext<T>, T> &&
    HasMatchEval<Ext<T>, T> && HasNftParse<Ext<T>, T> &&
    (HasSharedDecoder<Ext<T>> || HasSaveParse<Ext<T>, T>)&&(HasDecoder<Ext<T>> ||
                                                            HasHeaderDecoder<Ext<T>> ||
                                                            HasSharedDecoder<Ext<T>>);

template <typename T>
concept TargetExtension =
    Specialized<Ext<T>> && HasRestoreForm<Ext<T>, T> && HasSaveForm<Ext<T>, T> &&
    HasEncode<Ext<T>, T> && HasNftForm<Ext<T>, T> && HasNftExpr<Ext<T>, T> && HasNftNl<Ext<T>, T> &&
    HasEnteredChain<Ext<T>, T> && HasTargetEval<Ext<T>, T> && HasSaveParse<Ext<T>, T> &&
    HasNftParse<Ext<T>, T> && HasDecoder<Ext<T>>;

}  // namespace snare
