// PLACEHOLDER until nl-ext merges.
#pragma once
#include <string>
#include "model/netlink_form.h"
namespace snare {
std::string netlink_text(const NlExpr& expr);
}
