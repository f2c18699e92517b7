// PLACEHOLDER until the nl-ext branch merges: the plan's netlink form.
#pragma once
#include "model/netlink_form.h"
#include "model/rule.h"
namespace snare {
NlForm nft_netlink_form(const Plan& plan);
}
