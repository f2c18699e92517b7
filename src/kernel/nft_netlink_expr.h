// One NlExpr (model/netlink_form.h) as a libnftnl expression and back: the kernel layer's
// translation between the model's plain data and the nftnl objects a netlink batch is built from
// and a dump is parsed into (kernel/nft_netlink.h).
#pragma once

// libnftnl's headers use FILE without including <stdio.h>.
// clang-format off
#include <cstdio>
// clang-format on

#include <libnftnl/expr.h>
#include <libnftnl/rule.h>

#include <cstdint>
#include <string>

#include "model/netlink_form.h"

namespace snare {

// The name nft gives every anonymous set in a batch: the kernel picks the number.
inline constexpr const char* kAnonSetName = "__set%d";

// A new nftnl expression for `e` (the caller frees it, or a rule takes it). A lookup of an
// anonymous set refers to it as nft does: by kAnonSetName and `anon_set_id`, the NFTA_SET_ID of
// the NEWSET just before the rule.
nftnl_expr* nl_expr_to_nftnl(const NlExpr& e, uint32_t anon_set_id);

// The rule's expressions as NlExprs, appended to `rule.exprs`. An expression the model does not
// hold (its kind, or an attribute the model leaves out, such as ct's direction) adds nothing and
// its name to `rule.unknown`, so that the rule compares unequal to every written one. A lookup
// keeps the kernel's set name in NlLookup::set: the reader fills in anonymous sets.
void nl_rule_exprs_from_nftnl(nftnl_rule* r, NlRule& rule);

}  // namespace snare
