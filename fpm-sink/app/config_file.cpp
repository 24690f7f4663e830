#include "app/config_file.hpp"

#include <fmt/format.h>

#include <toml++/toml.h>
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <optional>
#include <sstream>

namespace fpm_sink {
namespace {

std::string section_of(const CLI::Option& option) {
  const std::string& group = option.get_group();
  if (group == "Options") return "";  // CLI11's default group: the top level
  std::string section;
  for (char c : group) section += c == ' ' ? '-' : static_cast<char>(std::tolower(c));
  return section;
}

std::string toml_type_of(const CLI::Option& option) {
  if (option.get_expected_max() == 0) return "boolean";  // a flag takes no argument
  std::string type = option.get_type_name();
  type = type.substr(0, type.find(':'));  // "UINT:INT in [1 - 16777216]" -> "UINT"
  if (type == "BOOLEAN") return "boolean";
  if (type == "INT" || type == "UINT") return "integer";
  if (type == "FLOAT") return "number";
  return "string";
}

// The value as the file spelled it, for messages: strings double-quoted,
// arrays as arrays.
std::string render(const toml::node& value) {
  if (auto* str = value.as_string()) {
    std::string out = "\"";
    for (char c : str->get()) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    return out + "\"";
  }
  if (auto* arr = value.as_array()) {
    std::string out = "[";
    for (size_t i = 0; i < arr->size(); ++i) out += (i ? ", " : "") + render(*arr->get(i));
    return out + "]";
  }
  std::ostringstream out;
  if (auto* tbl = value.as_table())
    out << *tbl;
  else
    value.visit([&](const auto& v) { out << v; });
  return out.str();
}

std::string_view toml_type_name(const toml::node& value) {
  switch (value.type()) {
    case toml::node_type::string:
      return "string";
    case toml::node_type::integer:
      return "integer";
    case toml::node_type::floating_point:
      return "float";
    case toml::node_type::boolean:
      return "boolean";
    case toml::node_type::array:
      return "array";
    case toml::node_type::table:
      return "table";
    default:
      return "date/time";
  }
}

// One scalar as the command line would have spelled it; nullopt: wrong type.
std::optional<std::string> scalar_text(const toml::node& value, const std::string& type) {
  if (type == "boolean") {
    if (auto b = value.value_exact<bool>()) return *b ? "true" : "false";
  } else if (type == "integer") {
    if (auto i = value.value_exact<int64_t>()) return std::to_string(*i);
  } else if (type == "number") {
    if (auto i = value.value_exact<int64_t>()) return std::to_string(*i);
    if (auto d = value.value_exact<double>()) return fmt::format("{}", *d);
  } else if (auto s = value.value_exact<std::string>()) {
    return *s;
  }
  return std::nullopt;
}

// CLI11 prefixes its messages with the option name ("--v6-nodes: Value 0 not in
// range..."): the config line names the key instead.
std::string without_option_name(std::string message, const CLI::Option& option) {
  const std::string prefix = option.get_name() + ": ";
  if (message.rfind(prefix, 0) == 0) message.erase(0, prefix.size());
  return message;
}

void apply_key(const ConfigKey& key, const toml::node& value, std::vector<std::string>& problems) {
  const std::string expected =
      key.repeatable ? "an array of " + key.toml_type + "s (or one " + key.toml_type + ")"
                     : key.toml_type;
  auto bad_type = [&] {
    problems.push_back(fmt::format("config.bad_type key={} value={}: expected {}, got {}", key.key,
                                   render(value), expected, toml_type_name(value)));
  };
  std::vector<std::string> texts;
  if (const auto* arr = value.as_array(); arr && key.repeatable) {
    if (arr->empty()) return;  // none: what the option holds when not given
    for (const auto& element : *arr) {
      auto text = scalar_text(element, key.toml_type);
      if (!text) return bad_type();
      texts.push_back(*text);
    }
  } else {
    auto text = scalar_text(value, key.toml_type);
    if (!text) return bad_type();
    texts.push_back(*text);
  }
  CLI::Option& option = *key.option;
  if (option.count() > 0) return;  // the command line wins
  try {
    option.add_result(texts);
    option.run_callback();
  } catch (const CLI::Error& e) {
    option.clear();
    problems.push_back(fmt::format("config.bad_value key={} value={}: {}", key.key, render(value),
                                   without_option_name(e.what(), option)));
  }
}

}  // namespace

std::vector<ConfigKey> config_keys(const CLI::App& app) {
  std::vector<ConfigKey> keys;
  for (const CLI::Option* opt : app.get_options()) {
    if (!opt->get_configurable() || opt->get_lnames().empty()) continue;
    if (opt == app.get_help_ptr() || opt == app.get_help_all_ptr() || opt == app.get_config_ptr())
      continue;
    ConfigKey k;
    k.section = section_of(*opt);
    k.name = opt->get_lnames().front();
    k.key = k.section.empty() ? k.name : k.section + "." + k.name;
    k.toml_type = toml_type_of(*opt);
    k.repeatable = opt->get_items_expected_max() > 1;
    k.option = const_cast<CLI::Option*>(opt);
    keys.push_back(std::move(k));
  }
  return keys;
}

std::vector<std::string> apply_config_text(const CLI::App& app, const std::string& text,
                                           const std::string& source) {
  std::vector<std::string> problems;
  toml::table file;
  try {
    file = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    const auto& at = e.source().begin;
    problems.push_back(
        fmt::format("config.syntax {}:{}:{}: {}", source, at.line, at.column, e.description()));
    return problems;
  }
  const auto keys = config_keys(app);
  auto find = [&](const std::string& section, const std::string& name) -> const ConfigKey* {
    auto it = std::find_if(keys.begin(), keys.end(), [&](const ConfigKey& k) {
      return k.section == section && k.name == name;
    });
    return it == keys.end() ? nullptr : &*it;
  };
  auto has_section = [&](const std::string& section) {
    return !section.empty() && std::any_of(keys.begin(), keys.end(), [&](const ConfigKey& k) {
      return k.section == section;
    });
  };
  // Where a misplaced key belongs, as a hint.
  auto home_of = [&](const std::string& name) -> std::string {
    for (const auto& k : keys)
      if (k.name == name) return k.section.empty() ? "the top level" : "[" + k.section + "]";
    return "";
  };
  auto unknown = [&](const std::string& key, const std::string& name, const toml::node& value) {
    const std::string home = home_of(name);
    problems.push_back(
        fmt::format("config.unknown_key key={} value={}: {}", key, render(value),
                    home.empty() ? "no such option" : "this key belongs in " + home));
  };

  for (const auto& [top_name, top_value] : file) {
    const std::string name(top_name.str());
    if (const auto* section = top_value.as_table(); section && has_section(name)) {
      for (const auto& [inner_name, inner_value] : *section) {
        const std::string inner(inner_name.str());
        if (const ConfigKey* k = find(name, inner))
          apply_key(*k, inner_value, problems);
        else
          unknown(name + "." + inner, inner, inner_value);
      }
    } else if (const ConfigKey* k = find("", name)) {
      apply_key(*k, top_value, problems);
    } else if (top_value.is_table()) {
      std::string sections;
      for (const auto& k : keys)
        if (!k.section.empty() && sections.find("[" + k.section + "]") == std::string::npos)
          sections += (sections.empty() ? "" : " ") + ("[" + k.section + "]");
      problems.push_back(
          fmt::format("config.unknown_key key={}: no such section (sections: {})", name, sections));
    } else {
      unknown(name, name, top_value);
    }
  }
  return problems;
}

}  // namespace fpm_sink
