#include "diagnostic.hpp"

namespace dvpn::hostsdb {

std::string Diagnostic::to_string() const {
  if (where.empty()) return message;
  return where + ": " + message;
}

std::string quote(std::string_view text) {
  // Bad input may be a megabyte of binary; a log line must stay readable and
  // valid ASCII, so long text is cut and non-printable bytes are escaped.
  constexpr std::size_t max_shown = 80;
  static constexpr char hex[] = "0123456789abcdef";
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size() && i < max_shown; ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 0xf];
    }
  }
  if (text.size() > max_shown) out += "...";
  out += '"';
  return out;
}

}  // namespace dvpn::hostsdb
