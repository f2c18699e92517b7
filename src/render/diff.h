// The difference between two forms of the same tables, as `snare verify` and a refused re-run
// print it: a line diff of their text, "-" for lines only in what the kernel holds and "+" for
// lines only in what the flags create, with table and chain headers as context.
#pragma once

#include <string>
#include <vector>

#include "model/table.h"

namespace snare {

// Two tables in iptables-save form, under "# <family> <table>: ...". Empty when equal.
std::string diff_tables(const TableModel& have, const TableModel& want);

// Two texts line by line. Lines for which `context` is true are printed unmarked when common.
// A longest common subsequence where it is affordable; past that (tens of thousands of lines on
// each side) the lines only one side has, in order, so that memory stays linear.
std::string diff_lines(const std::vector<std::string>& have, const std::vector<std::string>& want,
                       bool (*context)(const std::string& line));

std::vector<std::string> split_lines(const std::string& text);

}  // namespace snare
