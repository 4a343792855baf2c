#pragma once
// The hosts-map parser: pure text in, sites and diagnostics out, no I/O.
#include <optional>
#include <string_view>

#include "diagnostic.hpp"
#include "site.hpp"

namespace dvpn::hostsdb {

// How a site's address widens to its subnet when it has no subnet= option.
struct SitePrefix {
  std::uint8_t ipv4 = 24;
  std::uint8_t ipv6 = 64;
};

// Parses one line (without its line ending; a trailing '\r' is tolerated).
// Returns the site for a valid `#!` line; nullopt for lines without `#!`
// (ordinary hosts lines, comments, blanks) and for malformed site lines, which
// add a warning "FILE:LINE: ..." to `diags`.
// Details of the format (dvpn-hosts(5)): the word after "#!" is a comma-separated
// list of 1 to max_paths paths, each an endpoint or RELAY>ENDPOINT (one relay
// at most), and a path listed twice counts once; an IPv6 endpoint needs
// brackets even without a port ("2001:db8::5:22" would be ambiguous); user and
// host are limited to [A-Za-z0-9._-] and may not start with '-'; a token
// starting with '#' after the paths ends the options (a note for readers); a
// line whose first '#' is "#!" but has no address is a bad site line, not a
// comment.
std::optional<Site> parse_hosts_line(std::string_view line, std::string_view file, int line_no,
                                     const SitePrefix& widen, Diagnostics& diags);

// Parses [user@]host[:port] as a `#!` word's endpoint (the same rules);
// "" on success, else what is wrong. For dvpn.yaml's relay_listen.
std::string parse_ssh_endpoint(std::string_view text, Endpoint& out);

// Parses a whole file's text, line by line.
std::vector<Site> parse_hosts_text(std::string_view text, std::string_view file,
                                   const SitePrefix& widen, Diagnostics& diags);

}  // namespace dvpn::hostsdb
