// Apply, cleanup and verify in native nftables mode (--native-nftables), over NftBackend, the
// legacy TablesBackend (only to find and migrate istio's legacy rules) and RouteOps.
//
// Apply. The three istio tables (inet istio-proxy-nat, -mangle, -raw) belong to istio's nftables
// mode whole. When what the kernel holds differs from what the flags create, one transaction
// deletes every istio table there is and creates the flags' tables with istio's text
// (render/nft.h): the result equals a fresh apply of these flags, whatever earlier flags left
// (istio itself only flushes the tables the new flags use, and leaves TPROXY's mangle rules or
// the DNS zones of earlier flags in place). Same flags again: nothing is committed. Then the
// TPROXY routes and ::6, as in iptables mode; if they fail, one more transaction puts back the
// istio tables as they were (their listing, counters included) and the routes this run added go;
// only when the tables still hold what this apply committed (else a concurrent writer's change
// would be erased: they stay, and the error says so). What counts as different: model/nft_form.h
// (rules, chains with hook and device, table flags, any other object in an istio table).
//
// Between the two backends. Legacy ISTIO_* rules next to nftables ones would be two capture rule
// sets on every packet: the apply refuses, naming them, and changes nothing. With --reconcile it
// migrates: after the nftables commit, istio's part of every legacy table goes (reconcile.h's
// ownership rules, foreign rules kept), all or nothing with the nftables transaction. istio's
// chains in iptables-nft's ip/ip6 tables (apply/xt_nft.h) are refused alike and, with
// --reconcile, removed in the nftables transaction itself; then the routes come before it, since
// nft cannot write those chains back. (When both back-ends hold istio rules and the legacy commit
// fails, the iptables-nft chains stay removed: the error says so.) The caller (apply/run.cpp)
// serialises applies into one namespace with the nftables apply lock (kernel/xtables_lock.h,
// nft_apply_lock_path), and takes the xtables lock only for --reconcile, which may write legacy
// tables.
#pragma once

#include <string>

#include "apply/apply.h"
#include "kernel/nft_backend.h"

namespace snare {

struct NftEnv {
  NftBackend* nft = nullptr;
  TablesBackend* legacy = nullptr;  // null: legacy rules are not looked at
  RouteOps* routes = nullptr;       // null: routes left alone (apply, cleanup), unchecked (verify)
};

Status nft_apply_plan(const Config& cfg, const Plan& plan, NftEnv& env, ApplyReport& report);
// Deletes the three istio tables, then the routes and ::6 as in iptables mode. Foreign tables and
// legacy rules stay.
Status nft_cleanup_plan(const Config& cfg, const Plan& plan, NftEnv& env, ApplyReport& report);
// 0 same, 1 drift (diff filled, as nft commands), 2 trouble (error filled). Legacy istio rules
// count as drift.
int nft_verify_plan(const Config& cfg, const Plan& plan, NftEnv& env, std::string& diff,
                    std::string& error);

}  // namespace snare
