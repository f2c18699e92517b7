// Each form of a whole match, target or rule, dispatched over the variants to the extensions'
// forms (ext/ext.h). forms.cpp is the only place that lists the extensions; it checks every
// alternative of Match and Target against MatchExtension / TargetExtension (ext/ext.h), so a new
// alternative fails to compile there, with one error per missing form naming the alternative
// and the form, until its Ext<> has every form. Nothing outside ext/ knows an alternative by
// name for what these forms say.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ext/ext.h"

namespace snare {

void restore_text(const Match& m, std::string& out);
void restore_text(const Target& t, std::string& out);
SaveSlot save_slot(const Match& m);

// The user chain a target enters (`-j ISTIO_X`, a goto), which a replay creates, the restore
// text declares with -N and reconcile counts as the chain's; nullptr for a verdict or an action.
const std::string* entered_chain(const Target& t);
// What a match says of the packet in `ctx`, and what a target does to it (ext/eval.h).
MatchResult eval_match(const Match& m, const EvalContext& ctx);
TargetResult eval_target(const Target& t, EvalContext& ctx);

void save_text(const Match& m, SaveContext& ctx, std::string& out);
void save_text(const Target& t, SaveContext& ctx, std::string& out);

// istio's nftables text of a match or target (knftables' rule text), and the JSON expressions
// the kernel lists for a whole rule (`nft -j list`), before normalisation (ext/nft_kernel_form.h).
void nft_text(const Match& m, const NftContext& ctx, std::string& out);
void nft_text(const Target& t, const NftContext& ctx, std::string& out);
void nft_exprs(const Rule& rule, Json& out);
// The nf_tables expressions nft 1.0.6 sends for the rule's nftables text (model/netlink_form.h):
// its matches in order, each with the implicit dependency nft adds where the rule has not yet
// established it, then the target (with the counter where istio's text has one). `ctx` gives
// numeric_ids; the scope is the rule's.
void nft_nl_exprs(const Rule& rule, const NftContext& ctx, std::vector<NlExpr>& out);

// One rule as one ipt_entry / ip6t_entry, laid out as iptables 1.8.9 lays it out: header matches,
// then xt matches in the rule's order, then the target. Every value must be numeric by now.
Status encode_rule(Family family, const Rule& rule, std::string& out);

// What a rule's kernel form holds by number, filled in from `ids` for the namespace being
// written: the names it looks up get their indices (before encoding), indices read back get
// their names (after decoding). Extensions without such a number are left alone.
void resolve_kernel_ids(Rule& rule, const KernelIds& ids);
// Every rule of the plan, before its rules are encoded.
void resolve_kernel_ids(Plan& plan, const KernelIds& ids);

// A rule as iptables-save prints it, split into its header options (-s -d -i -o -p), its
// `-m NAME options` in order and its `-j NAME options`.
struct SaveRuleParts {
  std::vector<SaveOpt> header;
  std::vector<std::pair<std::string_view, std::vector<SaveOpt>>> matches;
  std::string_view target;
  std::vector<SaveOpt> target_opts;
};

// Those parts back into a rule, each read by its extension's from_save form; whatever no
// extension reads (a module snare does not model, an option it has no field for) is listed in
// `unsupported`, as decode_entry does for kernel entries.
DecodedRule rule_from_save(Family family, SaveRuleParts& parts);

// One rule of an nftables listing (its "expr" array, `nft -j list`) back into a rule, each
// statement read by the extension whose nft_expr form writes it (its from_nft form), in order;
// whatever no extension reads, or anything after the target, is listed in `unsupported`.
DecodedRule rule_from_nft(Family family, const Json& expr);

// A kernel entry (as iptc_first_rule returns it) back into a rule. `target_label` is
// iptc_get_target()'s answer for it (verdict name, chain name, "" for fall-through, or the
// extension's name). Whatever the model cannot say is listed in `unsupported`, so such an entry
// can never have the same key as one snare encodes.
DecodedRule decode_entry(Family family, const void* entry, const char* target_label);

}  // namespace snare
