#include "kernel/send_redirects.hpp"

#include <fstream>

namespace fpm_sink {

std::optional<bool> SendRedirects::read(std::string_view name) const {
  // A name that would leave conf_dir is no device of ours.
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string_view::npos)
    return std::nullopt;
  std::ifstream in(conf_dir_ / name / "send_redirects");
  long value = 0;
  if (!(in >> value)) return std::nullopt;
  return value != 0;
}

bool SendRedirects::effective(std::string_view dev) const {
  return read("all").value_or(true) || read(dev).value_or(true);
}

}  // namespace fpm_sink
