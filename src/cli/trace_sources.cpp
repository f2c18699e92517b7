// Reads and parses the rule set of `cmds` (see trace_sources.h).
#include "cli/trace_sources.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <optional>

#include "base/parse.h"
#include "render/save_parse.h"
#include "trace/nft_readback.h"

namespace snare {
namespace {

// A --rules file, read whole up to the parser's bound.
Status read_rules_file(const std::string& path, size_t max, std::string& out) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return Status::Fail(fmt::format("cannot open: {}", errno_text(errno)));
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0 && out.size() <= max) out.append(buf, n);
  const bool bad = std::ferror(f) != 0;
  std::fclose(f);
  if (bad) return Status::Fail("cannot read it");
  if (out.size() > max) return Status::Fail(fmt::format("larger than {} bytes", max));
  return Status::Ok();
}

// The save text's tables of the packet's family (see trace_rules_from_files).
Status tables_from_save_texts(const std::vector<std::string>& files,
                              std::vector<std::string>& texts, Family family,
                              std::vector<TableModel>& out, std::vector<std::string>& left_out) {
  const SaveTextLimits limits;
  std::string chosen, text, fallback, fallback_text;
  for (size_t i = 0; i < files.size(); ++i) {
    const std::string& path = files[i];
    std::string t = std::move(texts[i]);
    const std::optional<Family> f = save_text_family(t);
    if (!f && fallback.empty()) fallback = path, fallback_text = std::move(t);
    if (!f || *f != family) continue;
    if (!chosen.empty())
      return Status::Fail(
          fmt::format("--rules {} and {}: both hold {} rules", chosen, path, family_name(family)));
    chosen = path, text = std::move(t);
  }
  if (chosen.empty()) chosen = fallback, text = std::move(fallback_text);
  if (chosen.empty())
    return Status::Fail(
        fmt::format("--rules: no file holds {} rules, the packet's family", family_name(family)));
  if (Status s = parse_save_text(text, family, out, limits, &left_out); !s.ok())
    return Status::Fail(fmt::format("--rules {}: {}", chosen, s.error));
  return Status::Ok();
}

}  // namespace

Status trace_rules_from_files(const std::vector<std::string>& files, Family family,
                              TraceRules& out) {
  const size_t max = std::max(SaveTextLimits{}.max_bytes, NftJsonLimits{}.max_bytes);
  std::vector<std::string> texts(files.size());
  for (size_t i = 0; i < files.size(); ++i) {
    if (Status s = read_rules_file(files[i], max, texts[i]); !s.ok())
      return Status::Fail(fmt::format("--rules {}: {}", files[i], s.error));
    if (!is_nft_json(texts[i])) continue;
    if (files.size() > 1)
      return Status::Fail(fmt::format(
          "--rules {}: an nft JSON listing holds both families: give it alone", files[i]));
    if (Status s = nft_rules_from_json(texts[i], family, out); !s.ok())
      return Status::Fail(fmt::format("--rules {}: {}", files[i], s.error));
    return Status::Ok();
  }
  std::vector<TableModel> tables;
  std::vector<std::string> left_out;
  if (Status s = tables_from_save_texts(files, texts, family, tables, left_out); !s.ok()) return s;
  out = iptables_trace_rules(std::move(tables));
  out.not_walked = std::move(left_out);
  return Status::Ok();
}

Status trace_rules_from_kernel(const Commands& cmds, Family family, TraceRules& out) {
  if (!cmds.read_tables || !cmds.nft_ruleset)
    return Status::Fail("this build reads no kernel tables");
  std::vector<TableModel> tables;
  if (Status s = cmds.read_tables(family, tables); !s.ok()) return s;
  std::string listing;
  if (Status s = cmds.nft_ruleset(listing); !s.ok()) return s;
  TraceRules nft;
  if (!listing.empty())
    if (Status s = nft_rules_from_json(listing, family, nft); !s.ok())
      return Status::Fail("the namespace's nftables listing: " + s.error);
  // Why x_tables' entries only with its tables: a namespace of nftables alone walks nft's lines.
  if (tables.empty()) {
    out = std::move(nft);
    return Status::Ok();
  }
  out = iptables_trace_rules(std::move(tables));
  merge_trace_rules(out, std::move(nft));
  return Status::Ok();
}

}  // namespace snare
