#include "yaml_reader.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <sstream>
#include <vector>

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>

namespace dvpn::config::detail {

namespace {

constexpr std::size_t max_quoted = 60;  // longer bad values are cut short in messages

std::string child_path(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

// yaml-cpp gives "!" as the tag of quoted and block scalars, "?" of plain ones.
bool is_quoted(const YAML::Node& node) { return node.Tag() == "!"; }

// Records where each document starts and ignores the rest.
class DocumentStarts : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> marks;
  void OnDocumentStart(const YAML::Mark& mark) override { marks.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

}  // namespace

YAML::Node load_document(const std::string& text, const std::string& file) {
  try {
    // Count documents by driving the parser ourselves: yaml-cpp 0.7's LoadAll
    // loops forever on a token no document can start with, such as a stray ","
    // (jbeder/yaml-cpp#1040), yielding an empty document each time without
    // consuming it. Two documents starting at the same place are that case.
    std::istringstream stream(text);
    YAML::Parser parser(stream);
    DocumentStarts starts;
    if (!parser.HandleNextDocument(starts)) return YAML::Node();
    if (parser.HandleNextDocument(starts)) {
      const YAML::Mark second = starts.marks[1];  // a copy: the next call may grow marks
      const bool stuck = second.pos == starts.marks[0].pos ||
                         (parser.HandleNextDocument(starts) && starts.marks[2].pos == second.pos);
      if (stuck) {
        const auto at = static_cast<std::size_t>(second.pos);
        fail_at(file, second,
                "YAML syntax error: unexpected " + (at < text.size() ? quote(text.substr(at, 1)) : "text"));
      }
      fail_at(file, second, "a second YAML document, expected one document per file");
    }
    // One document: let yaml-cpp build its tree (Load reads only the first).
    return YAML::Load(text);
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp's own text for this is "bad file"; its mark is where the scanner got to.
    fail_at(file, e.mark,
            "YAML nested " + std::to_string(e.depth()) + " or more levels deep, expected a few levels");
  } catch (const YAML::Exception& e) {
    fail_at(file, e.mark, "YAML syntax error: " + e.msg);
  }
}

void fail_at(const std::string& file, const YAML::Mark& mark, const std::string& what) {
  if (mark.is_null()) throw ConfigError(file + ": " + what);
  throw ConfigError(file + ":" + std::to_string(mark.line + 1) + ":" +
                    std::to_string(mark.column + 1) + ": " + what);
}

void fail(const Field& field, std::string_view problem, std::string_view expected) {
  std::string what = field.path.empty() ? "the top level" : field.path;
  what += ' ';
  what += problem;
  what += ", expected ";
  what += expected;
  fail_at(*field.file, field.mark, what);
}

std::string quote(std::string_view text) {
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i == max_quoted) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      std::array<char, 8> hex{};
      std::snprintf(hex.data(), hex.size(), "\\x%02x", c);
      out += hex.data();
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar: return quote(node.Scalar());
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a mapping";
    default: return "empty";
  }
}

std::string format_duration(Duration duration) {
  const auto ms = duration.count();
  if (ms != 0 && ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms != 0 && ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::string format_size(std::uint64_t bytes) {
  if (bytes != 0 && bytes % (1ull << 30) == 0) return std::to_string(bytes >> 30) + "GiB";
  if (bytes != 0 && bytes % (1ull << 20) == 0) return std::to_string(bytes >> 20) + "MiB";
  if (bytes != 0 && bytes % (1ull << 10) == 0) return std::to_string(bytes >> 10) + "KiB";
  return std::to_string(bytes);
}

void read_mapping(const Field& field, std::initializer_list<Key> keys, std::string_view expected) {
  if (field.node.IsNull()) return;
  if (!field.node.IsMap()) fail(field, "is " + describe(field.node), expected);

  std::string names;
  for (const auto& key : keys) names += (names.empty() ? "" : ", ") + std::string(key.name);

  struct Seen {
    std::string name;
    YAML::Mark mark;
  };
  std::vector<Seen> seen;
  for (const auto& entry : field.node) {
    const YAML::Node& key_node = entry.first;
    const YAML::Node& value = entry.second;
    const Field key_field{field.file, key_node, key_node.Mark(), field.path};
    if (!key_node.IsScalar())
      fail(key_field, "has a key that is " + describe(key_node), "one of " + names);
    const std::string& name = key_node.Scalar();
    const std::string path = child_path(field.path, name);

    const auto known = std::find_if(keys.begin(), keys.end(),
                                    [&](const Key& key) { return key.name == name; });
    if (known == keys.end())
      fail_at(*field.file, key_node.Mark(),
              "unknown key " + quote(path) + ", expected one of " + names);
    const auto earlier = std::find_if(seen.begin(), seen.end(),
                                      [&](const Seen& s) { return s.name == name; });
    if (earlier != seen.end())
      fail_at(*field.file, key_node.Mark(),
              "duplicate key " + quote(path) + " (first at line " +
                  std::to_string(earlier->mark.line + 1) + "), expected each key once");
    seen.push_back({name, key_node.Mark()});

    known->read(Field{field.file, value, value.IsNull() ? key_node.Mark() : value.Mark(), path});
  }
}

void read_list(const Field& field, std::string_view expected, bool allow_empty,
               const std::function<void(const Field&)>& read) {
  if (!field.node.IsSequence()) fail(field, "is " + describe(field.node), expected);
  if (field.node.size() == 0 && !allow_empty) fail(field, "is an empty list", expected);
  std::size_t index = 0;
  for (const auto& item : field.node) {
    read(Field{field.file, item, item.Mark(), field.path + "[" + std::to_string(index) + "]"});
    ++index;
  }
}

std::string read_text(const Field& field, std::string_view expected) {
  if (!field.node.IsScalar()) fail(field, "is " + describe(field.node), expected);
  return field.node.Scalar();
}

std::string read_nonempty_text(const Field& field, std::string_view expected) {
  auto text = read_text(field, expected);
  if (text.empty()) fail(field, "is \"\"", expected);
  return text;
}

std::uint64_t read_integer(const Field& field, std::uint64_t min, std::uint64_t max) {
  const std::string expected =
      "an integer from " + std::to_string(min) + " to " + std::to_string(max);
  const auto text = read_text(field, expected);
  if (is_quoted(field.node)) fail(field, "is the quoted string " + quote(text), expected);
  const bool digits = !text.empty() && text.size() <= 19 &&
                      std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits) fail(field, "is " + quote(text), expected);
  const auto value = std::stoull(text);
  if (value < min || value > max) fail(field, "is " + text + ", out of range", expected);
  return value;
}

Duration read_duration(const Field& field, Duration min, Duration max) {
  constexpr std::string_view form = "a duration like 5s or 250ms";
  const auto text = read_text(field, form);
  const auto value = parse_duration(text);
  if (!value) fail(field, "is " + quote(text), form);
  if (*value < min || *value > max)
    fail(field, "is " + text + ", out of range",
         "a duration from " + format_duration(min) + " to " + format_duration(max));
  return *value;
}

std::uint64_t read_size(const Field& field, std::uint64_t min, std::uint64_t max) {
  constexpr std::string_view form = "a size like 65536, 64KiB or 1MiB";
  const auto text = read_text(field, form);
  const auto value = parse_size(text);
  if (!value) fail(field, "is " + quote(text), form);
  if (*value < min || *value > max)
    fail(field, "is " + text + ", out of range",
         "a size from " + format_size(min) + " to " + format_size(max));
  return *value;
}

}  // namespace dvpn::config::detail
