#include "hosts_parser.hpp"

#include <algorithm>

#include "ip_endpoint.hpp"  // parse_port

namespace dvpn::hostsdb {
namespace {

constexpr std::string_view endpoint_form = "[user@]host[:port]";
constexpr std::string_view relay_form = "[user@]relay[:port]>[user@]host[:port]";
constexpr std::string_view options_form = "subnet=CIDR or mode=netcat|direct";

// glibc's hosts parser splits on blanks; '\r' and the rarer '\v' '\f' are
// taken too so files from other systems do not produce odd tokens.
constexpr bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

// Successive whitespace-separated tokens of a string, without copying.
class Tokens {
 public:
  explicit Tokens(std::string_view text) : rest_(text) {}
  std::optional<std::string_view> next() noexcept {
    std::size_t begin = 0;
    while (begin < rest_.size() && is_space(rest_[begin])) ++begin;
    if (begin == rest_.size()) return std::nullopt;
    std::size_t end = begin;
    while (end < rest_.size() && !is_space(rest_[end])) ++end;
    auto token = rest_.substr(begin, end - begin);
    rest_.remove_prefix(end);
    return token;
  }

 private:
  std::string_view rest_;
};

constexpr bool is_word_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

// Users and host names are handed to SSH: a narrow character set keeps shell
// and option syntax out, and a leading '-' could read as a command-line flag.
// Returns what is wrong with `word`, or "" if nothing; `what` is "user"/"host".
std::string check_word(std::string_view word, std::string_view what) {
  std::string w(what);
  if (word.empty()) return "empty " + w;
  if (!std::all_of(word.begin(), word.end(), is_word_char))
    return w + " " + quote(word) + " may only hold letters, digits, \".\", \"_\" and \"-\"";
  if (word[0] == '-') return w + " " + quote(word) + " starts with \"-\"";
  return {};
}

// "" on success, else what is wrong with `text` as [user@]host[:port].
//
// An IPv6 host must be in brackets, even without a port: "2001:db8::5:22" is
// both a valid address and a plausible "address:port", so accepting bare
// literals would let a typo silently pick the wrong gateway.
std::string parse_endpoint(std::string_view text, Endpoint& out) {
  auto at = text.find('@');
  if (at != std::string_view::npos) {
    auto user = text.substr(0, at);
    if (auto err = check_word(user, "user"); !err.empty()) return err;
    out.user = std::string(user);
    text.remove_prefix(at + 1);
  }
  std::string_view host;
  std::string_view port;
  bool has_port = false;
  if (text.starts_with('[')) {
    auto close = text.find(']');
    if (close == std::string_view::npos) return "missing \"]\" after an IPv6 host";
    host = text.substr(1, close - 1);
    auto ip = Ip::parse(host);
    if (host.find(':') == std::string_view::npos || !ip)
      return "brackets must hold an IPv6 address";
    auto after = text.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return "unexpected " + quote(after) + " after \"]\"";
      has_port = true;
      port = after.substr(1);
    }
  } else {
    auto colon = text.find(':');
    if (colon != std::string_view::npos && text.find(':', colon + 1) != std::string_view::npos)
      return "an IPv6 host must be in brackets";
    host = text.substr(0, colon);
    if (colon != std::string_view::npos) {
      has_port = true;
      port = text.substr(colon + 1);
    }
    if (auto err = check_word(host, "host"); !err.empty()) return err;
    // All digits and dots is meant as an IPv4 literal, never a DNS name.
    bool dotted = std::all_of(host.begin(), host.end(),
                              [](char c) { return c == '.' || (c >= '0' && c <= '9'); });
    if (dotted && !Ip::parse(host)) return "host " + quote(host) + " is not an IPv4 address";
  }
  if (has_port) {
    std::uint16_t number = 0;
    if (auto err = parse_port(port, number); !err.empty()) return err;
    out.port = number;
  }
  out.host = std::string(host);
  return {};
}

// "" on success, else the whole message for one item of the `#!` word: an
// endpoint, or RELAY>TARGET. `word` is the whole `#!` word, named in messages
// when the bad part is only a piece of it.
std::string parse_path(std::string_view item, std::string_view word, Path& out) {
  auto where = [&](std::string_view part) {
    auto text = quote(part);
    if (part.size() != word.size()) text += " in " + quote(word);
    return text;
  };
  auto arrow = item.find('>');
  if (arrow == std::string_view::npos) {
    if (auto err = parse_endpoint(item, out.target); !err.empty())
      return "bad endpoint " + where(item) + ": " + err + ", expected " + std::string(endpoint_form);
    return {};
  }
  const auto relay = item.substr(0, arrow);
  const auto target = item.substr(arrow + 1);
  auto bad_relay = [&](std::string_view what) {
    return "bad endpoint " + where(item) + ": " + std::string(what) + ", expected " +
           std::string(relay_form);
  };
  if (target.find('>') != std::string_view::npos) return bad_relay("two \">\" (one relay at most)");
  if (relay.empty()) return bad_relay("nothing before \">\"");
  if (target.empty()) return bad_relay("nothing after \">\"");
  Endpoint relay_endpoint;
  if (auto err = parse_endpoint(relay, relay_endpoint); !err.empty())
    return "bad relay " + where(relay) + ": " + err + ", expected " + std::string(endpoint_form);
  out.relay = std::move(relay_endpoint);
  if (auto err = parse_endpoint(target, out.target); !err.empty())
    return "bad endpoint " + where(target) + ": " + err + ", expected " + std::string(endpoint_form);
  return {};
}

// "" on success, else the whole message for a bad `#!` word: a comma-separated
// list of paths, tried in order. A path listed twice is redundant and kept once.
std::string parse_paths(std::string_view word, Site& site) {
  const auto items = static_cast<std::size_t>(std::count(word.begin(), word.end(), ',')) + 1;
  if (items > max_paths)
    return "too many endpoints (" + std::to_string(items) + ") in " + quote(word) + ": expected at most " +
           std::to_string(max_paths);
  site.paths.reserve(items);
  std::string_view rest = word;
  for (std::size_t n = 1; n <= items; ++n) {
    const auto comma = rest.find(',');
    const auto item = rest.substr(0, comma);
    rest.remove_prefix(comma == std::string_view::npos ? rest.size() : comma + 1);
    if (item.empty())
      return "empty endpoint " + std::to_string(n) + " in " + quote(word) + ": expected " +
             std::string(endpoint_form) + (n == 1 ? " before \",\"" : " after \",\"");
    Path path;
    if (auto err = parse_path(item, word, path); !err.empty()) return err;
    if (std::find(site.paths.begin(), site.paths.end(), path) == site.paths.end())
      site.paths.push_back(std::move(path));
  }
  return {};
}

// "" on success, else the whole message for a bad `key=value` option.
std::string parse_option(std::string_view token, Site& site) {
  auto eq = token.find('=');
  auto key = token.substr(0, eq);
  auto value = eq == std::string_view::npos ? std::string_view{} : token.substr(eq + 1);
  if (eq != std::string_view::npos && key == "subnet") {
    auto parsed = Prefix::parse(value);
    if (!parsed.prefix) return "bad subnet " + quote(value) + ": " + parsed.error;
    // Listing one subnet twice on a line is redundant, not a conflict.
    if (std::find(site.subnets.begin(), site.subnets.end(), *parsed.prefix) == site.subnets.end())
      site.subnets.push_back(*parsed.prefix);
    return {};
  }
  if (eq != std::string_view::npos && key == "mode") {
    std::optional<Mode> mode;
    if (value == "netcat") mode = Mode::netcat;
    if (value == "direct") mode = Mode::direct;
    if (!mode) return "bad mode " + quote(value) + ": expected mode=netcat|direct";
    if (site.mode && site.mode != mode)
      return "conflicting option " + quote(token) + ": expected mode= at most once";
    site.mode = mode;
    return {};
  }
  return "unknown option " + quote(token) + ": expected " + std::string(options_form);
}

}  // namespace

std::string parse_ssh_endpoint(std::string_view text, Endpoint& out) { return parse_endpoint(text, out); }

std::optional<Site> parse_hosts_line(std::string_view line, std::string_view file, int line_no,
                                     const SitePrefix& widen, Diagnostics& diags) {
  if (line.ends_with('\r')) line.remove_suffix(1);
  // As in glibc, '#' starts a comment anywhere; only "#!" makes it a site.
  auto hash = line.find('#');
  if (hash == std::string_view::npos || line.substr(hash + 1, 1) != "!") return std::nullopt;
  Site site;
  site.origin = std::string(file) + ":" + std::to_string(line_no);
  auto fail = [&](std::string message) -> std::optional<Site> {
    diags.push_back({Diagnostic::Severity::warning, site.origin, std::move(message)});
    return std::nullopt;
  };

  Tokens fields(line.substr(0, hash));
  auto address = fields.next();
  if (!address)
    return fail("site without an address: expected ADDRESS [NAME...] #! " +
                std::string(endpoint_form));
  auto ip = Ip::parse(*address);
  if (!ip) return fail("bad address " + quote(*address) + ": expected an IPv4 or IPv6 address");
  site.address = *ip;
  if (auto name = fields.next()) site.name = std::string(*name);

  Tokens spec(line.substr(hash + 2));
  auto paths = spec.next();
  if (!paths) return fail("empty \"#!\": expected " + std::string(endpoint_form));
  if (paths->find('=') != std::string_view::npos)
    return fail("option " + quote(*paths) + " in place of the endpoint: expected " +
                std::string(endpoint_form) + " first");
  if (auto err = parse_paths(*paths, site); !err.empty()) return fail(std::move(err));
  while (auto option = spec.next()) {
    if (option->starts_with('#')) break;  // "#!gw mode=direct # why": a note for readers
    if (auto err = parse_option(*option, site); !err.empty()) return fail(std::move(err));
  }
  if (site.subnets.empty())
    site.subnets.push_back(Prefix::containing(site.address, ip->is_v4() ? widen.ipv4 : widen.ipv6));
  return site;
}

std::vector<Site> parse_hosts_text(std::string_view text, std::string_view file,
                                   const SitePrefix& widen, Diagnostics& diags) {
  std::vector<Site> sites;
  // Sized up front: growing a vector of 65,536 sites moves each one ~twice.
  // Lines holding "#!" bound the count; a line of many "#!" counts once.
  std::size_t candidates = 0;
  for (auto at = text.find("#!"); at != std::string_view::npos; at = text.find("#!", at)) {
    ++candidates;
    at = text.find('\n', at);
  }
  sites.reserve(candidates);
  int line_no = 0;
  while (!text.empty()) {
    auto newline = text.find('\n');
    auto line = text.substr(0, newline);
    ++line_no;
    if (auto site = parse_hosts_line(line, file, line_no, widen, diags))
      sites.push_back(std::move(*site));
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
  }
  return sites;
}

}  // namespace dvpn::hostsdb
