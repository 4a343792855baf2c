#pragma once
// Typed reads from a yaml-cpp tree that know where each value came from: every
// mismatch becomes a ConfigError "FILE:LINE:COL: what was wrong, expected FORM".
// Internal to the config loader.
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include <yaml-cpp/yaml.h>

#include "config.hpp"

namespace dvpn::config::detail {

// One value of the tree with its name and position.
struct Field {
  const std::string* file = nullptr;  // the source name, for messages
  YAML::Node node;
  YAML::Mark mark;   // the value's position, or its key's when the value is empty
  std::string path;  // "ssh.port", "listen[1]"; "" for the top level
};

// Parses `text` as at most one YAML document: a null node if it holds none
// (empty, or only comments). Syntax errors and a second document throw.
YAML::Node load_document(const std::string& text, const std::string& file);

// Throws "FILE:LINE:COL: what" (line and column 1-based).
[[noreturn]] void fail_at(const std::string& file, const YAML::Mark& mark, const std::string& what);
// Throws "FILE:LINE:COL: PATH PROBLEM, expected EXPECTED".
[[noreturn]] void fail(const Field& field, std::string_view problem, std::string_view expected);

// The text in double quotes, control bytes escaped, cut short if long.
std::string quote(std::string_view text);
// What a node is, for "X is ...": a quoted scalar, "a list", "a mapping" or "empty".
std::string describe(const YAML::Node& node);

// Writes a duration or size in the largest unit that keeps it whole ("1h", "16MiB").
std::string format_duration(Duration duration);
std::string format_size(std::uint64_t bytes);

// A key a mapping may hold, and how to read its value.
struct Key {
  std::string_view name;
  std::function<void(const Field&)> read;
};

// Reads a mapping whose keys come from `keys`, each at most once, in file
// order. An empty value (`ssh:` with everything below commented out) reads as
// an empty mapping. `expected` describes the mapping for type errors.
void read_mapping(const Field& field, std::initializer_list<Key> keys, std::string_view expected);

// Calls `read` on each item of a list; an empty list is an error unless allowed.
void read_list(const Field& field, std::string_view expected, bool allow_empty,
               const std::function<void(const Field&)>& read);

// Any scalar's text (a number or a quoted string alike).
std::string read_text(const Field& field, std::string_view expected);
// A non-empty scalar's text.
std::string read_nonempty_text(const Field& field, std::string_view expected);
// An unquoted decimal integer within [min, max].
std::uint64_t read_integer(const Field& field, std::uint64_t min, std::uint64_t max);
// A duration ("5s") within [min, max].
Duration read_duration(const Field& field, Duration min, Duration max);
// A size ("1MiB", "65536") within [min, max].
std::uint64_t read_size(const Field& field, std::uint64_t min, std::uint64_t max);

// One of a fixed set of words.
template <class E>
E read_enum(const Field& field, std::initializer_list<std::pair<std::string_view, E>> choices) {
  std::string expected = "one of ";
  bool first = true;
  for (const auto& choice : choices) {
    expected += first ? "" : ", ";
    expected += choice.first;
    first = false;
  }
  const auto text = read_text(field, expected);
  for (const auto& [name, value] : choices) {
    if (text == name) return value;
  }
  fail(field, "is " + quote(text), expected);
}

}  // namespace dvpn::config::detail
