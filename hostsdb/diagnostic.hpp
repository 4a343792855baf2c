#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace dvpn::hostsdb {

// One finding about an input: "FILE:LINE: what was wrong, what was expected".
struct Diagnostic {
  enum class Severity { warning, error };
  Severity severity = Severity::warning;
  std::string where;    // "FILE:LINE" or "FILE"
  std::string message;  // quotes the bad text, then says what was expected
  std::string to_string() const;  // "FILE:LINE: message"
};

using Diagnostics = std::vector<Diagnostic>;

// `text` in double quotes for a message: bytes outside printable ASCII become
// \xNN and text past 80 bytes is cut to "...", so any input logs safely.
std::string quote(std::string_view text);

}  // namespace dvpn::hostsdb
