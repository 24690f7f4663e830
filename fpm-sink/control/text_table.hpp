// Column-aligned plain-text tables, vtysh style: a header row, then rows;
// every column is as wide as its widest cell, the last one is not padded.
#pragma once

#include <string>
#include <vector>

namespace fpm_sink::control {

class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header) : header_(std::move(header)) {}
  void add_row(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::string render() const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace fpm_sink::control
