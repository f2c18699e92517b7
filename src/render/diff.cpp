// Line diffs of table text (see diff.h).
#include "render/diff.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <map>

#include "render/save.h"

namespace snare {
namespace {

// Table (*), chain (:) and COMMIT lines give the +/- lines a place.
bool save_context(const std::string& line) {
  return !line.empty() && (line[0] == '*' || line[0] == ':' || line == "COMMIT");
}

constexpr size_t kMaxLcsCells = 4'000'000;  // 16 MB of table: past that, the linear fallback

// The middle part (after common head and tail) by LCS.
void lcs_diff(const std::vector<std::string>& a, const std::vector<std::string>& b,
              bool (*context)(const std::string&), std::string& out) {
  const size_t n = a.size(), m = b.size();
  std::vector<uint32_t> l((n + 1) * (m + 1), 0);
  auto at = [&](size_t i, size_t j) -> uint32_t& { return l[i * (m + 1) + j]; };
  for (size_t i = n; i-- > 0;)
    for (size_t j = m; j-- > 0;)
      at(i, j) = a[i] == b[j] ? at(i + 1, j + 1) + 1 : std::max(at(i + 1, j), at(i, j + 1));
  size_t i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] == b[j]) {
      if (context(a[i])) out += " " + a[i] + "\n";
      i++, j++;
    } else if (j < m && (i == n || at(i, j + 1) >= at(i + 1, j))) {
      out += "+" + b[j++] + "\n";
    } else {
      out += "-" + a[i++] + "\n";
    }
  }
}

// Lines only one side has (as multisets), each side in its own order.
void multiset_diff(const std::vector<std::string>& a, const std::vector<std::string>& b,
                   std::string& out) {
  std::map<std::string, int> count;
  for (const std::string& s : b) ++count[s];
  for (const std::string& s : a)
    if (--count[s] < 0) out += "-" + s + "\n";
  count.clear();
  for (const std::string& s : a) ++count[s];
  for (const std::string& s : b)
    if (--count[s] < 0) out += "+" + s + "\n";
}

}  // namespace

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> v;
  size_t p = 0;
  while (p < s.size()) {
    size_t n = s.find('\n', p);
    if (n == std::string::npos) n = s.size();
    v.push_back(s.substr(p, n - p));
    p = n + 1;
  }
  return v;
}

std::string diff_lines(const std::vector<std::string>& a, const std::vector<std::string>& b,
                       bool (*context)(const std::string&)) {
  size_t head = 0;
  while (head < a.size() && head < b.size() && a[head] == b[head]) ++head;
  size_t tail = 0;
  while (tail < a.size() - head && tail < b.size() - head &&
         a[a.size() - 1 - tail] == b[b.size() - 1 - tail])
    ++tail;
  std::string out;
  for (size_t i = 0; i < head; ++i)
    if (context(a[i])) out += " " + a[i] + "\n";
  const std::vector<std::string> ma(a.begin() + static_cast<std::ptrdiff_t>(head),
                                    a.end() - static_cast<std::ptrdiff_t>(tail));
  const std::vector<std::string> mb(b.begin() + static_cast<std::ptrdiff_t>(head),
                                    b.end() - static_cast<std::ptrdiff_t>(tail));
  if ((ma.size() + 1) * (mb.size() + 1) <= kMaxLcsCells)
    lcs_diff(ma, mb, context, out);
  else
    multiset_diff(ma, mb, out);
  for (size_t i = a.size() - tail; i < a.size(); ++i)
    if (context(a[i])) out += " " + a[i] + "\n";
  return out;
}

std::string diff_tables(const TableModel& have, const TableModel& want) {
  const std::vector<std::string> a = split_lines(render_save_table(have));
  const std::vector<std::string> b = split_lines(render_save_table(want));
  if (a == b) return "";
  return fmt::format("# {} {}: '-' in the kernel only, '+' missing from the kernel\n",
                     family_name(have.family), table_name(have.table)) +
         diff_lines(a, b, save_context);
}

}  // namespace snare
