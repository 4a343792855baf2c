// The hosts-map parser, driven from in-memory strings.
#include <doctest/doctest.h>

#include <algorithm>
#include <random>

#include "hosts_parser.hpp"

using namespace dvpn::hostsdb;

namespace {

// Parses one line as "test.hosts:7"; the line must be a valid site.
Site site(std::string_view line, SitePrefix widen = {}) {
  Diagnostics diags;
  auto parsed = parse_hosts_line(line, "test.hosts", 7, widen, diags);
  for (const auto& d : diags) MESSAGE(d.to_string());
  REQUIRE_MESSAGE(parsed, line);
  CHECK(diags.empty());
  return *parsed;
}

// Parses one line that must be rejected; returns its one warning's text.
std::string rejected(std::string_view line) {
  Diagnostics diags;
  auto parsed = parse_hosts_line(line, "test.hosts", 7, {}, diags);
  CHECK_MESSAGE(!parsed, line);
  REQUIRE(diags.size() == 1);
  CHECK(diags[0].severity == Diagnostic::Severity::warning);
  CHECK(diags[0].where == "test.hosts:7");
  return diags[0].message;
}

// A line that is not a site: no site and no warning.
void ignored(std::string_view line) {
  Diagnostics diags;
  CHECK_MESSAGE(!parse_hosts_line(line, "test.hosts", 7, {}, diags), line);
  CHECK_MESSAGE(diags.empty(), line);
}

std::vector<std::string> subnets(const Site& s) {
  std::vector<std::string> out;
  for (const auto& p : s.subnets) out.push_back(p.to_string());
  return out;
}

using strings = std::vector<std::string>;

// An endpoint as written in a hosts map: unset parts left out.
std::string written(const Endpoint& e) {
  std::string out = e.user ? *e.user + "@" : "";
  out += e.host.find(':') != std::string::npos ? "[" + e.host + "]" : e.host;
  if (e.port) out += ":" + std::to_string(*e.port);
  return out;
}

// A site's paths as written: "relay>target" or "target", one string each.
strings paths(const Site& s) {
  strings out;
  for (const auto& p : s.paths) out.push_back(p.relay ? written(*p.relay) + ">" + written(p.target) : written(p.target));
  return out;
}

}  // namespace

TEST_CASE("the spec's three example sites parse") {
  auto thursday = site("10.0.3.1       thursday        #!203.0.113.7");
  CHECK(thursday.name == "thursday");
  CHECK(thursday.address == *Ip::parse("10.0.3.1"));
  CHECK(thursday.paths[0].target.host == "203.0.113.7");
  CHECK(subnets(thursday) == strings{"10.0.3.0/24"});
  CHECK(thursday.origin == "test.hosts:7");

  auto friday = site(
      "10.0.4.1       friday fri      #!dvpn@gw.friday.example:2222 subnet=10.0.4.0/23 "
      "mode=direct");
  CHECK(friday.name == "friday");
  CHECK(friday.paths[0].target.user == "dvpn");
  CHECK(friday.paths[0].target.host == "gw.friday.example");
  CHECK(friday.paths[0].target.port == 2222);
  CHECK(friday.mode == Mode::direct);
  CHECK(subnets(friday) == strings{"10.0.4.0/23"});

  auto saturday = site("fd00:5::1      saturday        #![2001:db8::5]:22");
  CHECK(saturday.address == *Ip::parse("fd00:5::1"));
  CHECK(saturday.paths[0].target.host == "2001:db8::5");
  CHECK(saturday.paths[0].target.port == 22);
  CHECK(subnets(saturday) == strings{"fd00:5::/64"});
}

TEST_CASE("unset user, port and mode stay unset for the config defaults") {
  auto s = site("10.0.3.1 thursday #!gw.example");
  CHECK_FALSE(s.paths[0].target.user);
  CHECK_FALSE(s.paths[0].target.port);
  CHECK_FALSE(s.mode);
  CHECK(s.paths[0].target.host == "gw.example");
  auto bracketed = site("10.0.3.1 x #![2001:db8::5]");
  CHECK(bracketed.paths[0].target.host == "2001:db8::5");
  CHECK_FALSE(bracketed.paths[0].target.port);
  CHECK(site("10.0.3.1 x #!a@b").paths[0].target.user == "a");
  CHECK(site("10.0.3.1 x #!gw:65535").paths[0].target.port == 65535);
  CHECK(site("10.0.3.1 x #!gw:1").paths[0].target.port == 1);
  CHECK(site("10.0.3.1 x #!u.s_e-r@gw mode=netcat").mode == Mode::netcat);
  CHECK(site("10.0.3.1 x #!gw mode=direct mode=direct").mode == Mode::direct);
}

TEST_CASE("without subnet= the address widens to site_prefix") {
  CHECK(subnets(site("10.0.3.77 x #!gw")) == strings{"10.0.3.0/24"});
  CHECK(subnets(site("10.0.3.77 x #!gw", {16, 48})) == strings{"10.0.0.0/16"});
  CHECK(subnets(site("10.0.3.77 x #!gw", {32, 128})) == strings{"10.0.3.77/32"});
  CHECK(subnets(site("fd00:5:1:2::1 x #!gw")) == strings{"fd00:5:1:2::/64"});
  CHECK(subnets(site("fd00:5:1:2::1 x #!gw", {16, 48})) == strings{"fd00:5:1::/48"});
  CHECK(subnets(site("::ffff:10.0.3.77 x #!gw")) == strings{"10.0.3.0/24"});
}

TEST_CASE("subnet= is repeatable, may mix families and replaces widening") {
  auto s = site("10.0.7.1 x #!gw subnet=10.0.7.0/24 subnet=fd00:7::/48 subnet=192.168.0.0/16");
  CHECK(subnets(s) == strings{"10.0.7.0/24", "fd00:7::/48", "192.168.0.0/16"});
  // The same subnet twice on one line is redundant, kept once.
  CHECK(subnets(site("10.0.7.1 x #!gw subnet=10.9.0.0/16 subnet=10.9.0.0/16")) ==
        strings{"10.9.0.0/16"});
}

TEST_CASE("whitespace after #! is optional; tabs and '#' without a space work") {
  CHECK(site("10.0.3.1 x #!gw").paths[0].target.host == "gw");
  CHECK(site("10.0.3.1 x #! gw").paths[0].target.host == "gw");
  CHECK(site("10.0.3.1\tx\t#!\tgw\tmode=direct").mode == Mode::direct);
  CHECK(site("10.0.3.1 x#!gw").name == "x");
  CHECK(site("  \t10.0.3.1 x #!gw   ").paths[0].target.host == "gw");
  CHECK(site("10.0.3.1 x #!gw # a trailing note").paths[0].target.host == "gw");
  CHECK(site("10.0.3.1 x #!gw mode=direct #note foo=1").mode == Mode::direct);
}

TEST_CASE("the name is the first name on the line, or empty") {
  CHECK(site("10.0.4.1 friday fri #!gw").name == "friday");
  CHECK(site("10.0.4.1 #!gw").name == "");
  CHECK(site("10.0.4.1\t\t#!gw").name == "");
}

TEST_CASE("lines without #! are ignored, even malformed ones") {
  ignored("");
  ignored("   \t ");
  ignored("# just a comment");
  ignored("127.0.0.1 localhost");
  ignored("10.0.3.300 not-an-address-but-not-a-site");
  ignored("garbage garbage garbage");
  ignored("10.0.8.1 sunday # ordinary comment #! later marker does not count");
  ignored("# 10.0.9.1 monday #!gw9.example");
  ignored("10.0.8.1 sunday # !gw");
  ignored("\r");
}

TEST_CASE("CRLF line endings are tolerated") {
  auto s = site("10.0.4.1 friday #!u@gw:2222 subnet=10.0.4.0/23\r");
  CHECK(s.paths[0].target.port == 2222);
  CHECK(subnets(s) == strings{"10.0.4.0/23"});
  CHECK(site("10.0.4.1 friday #!gw\r").paths[0].target.host == "gw");
  CHECK(site("10.0.4.1 friday #!gw mode=netcat\r").mode == Mode::netcat);
}

TEST_CASE("a bad address is quoted with what was expected") {
  CHECK(rejected("10.0.3.300 x #!gw") ==
        "bad address \"10.0.3.300\": expected an IPv4 or IPv6 address");
  CHECK(rejected("thursday #!gw") == "bad address \"thursday\": expected an IPv4 or IPv6 address");
  CHECK(rejected("10.0.0.0/24 x #!gw") ==
        "bad address \"10.0.0.0/24\": expected an IPv4 or IPv6 address");
  CHECK(rejected("#!gw") ==
        "site without an address: expected ADDRESS [NAME...] #! [user@]host[:port]");
  CHECK(rejected("   #! gw subnet=10.0.0.0/8") ==
        "site without an address: expected ADDRESS [NAME...] #! [user@]host[:port]");
}

TEST_CASE("bad subnets: CIDR syntax, host bits, prefix range") {
  CHECK(rejected("10.0.4.1 x #!gw subnet=10.0.4.1/23") ==
        "bad subnet \"10.0.4.1/23\": host bits set, expected 10.0.4.0/23");
  CHECK(rejected("10.0.4.1 x #!gw subnet=fd00::1/64") ==
        "bad subnet \"fd00::1/64\": host bits set, expected fd00::/64");
  CHECK(rejected("10.0.4.1 x #!gw subnet=10.0.4.0/33") ==
        "bad subnet \"10.0.4.0/33\": prefix length 33 out of range, expected 0-32");
  CHECK(rejected("10.0.4.1 x #!gw subnet=fd00::/129") ==
        "bad subnet \"fd00::/129\": prefix length 129 out of range, expected 0-128");
  CHECK(rejected("10.0.4.1 x #!gw subnet=10.0.4.0") ==
        "bad subnet \"10.0.4.0\": missing \"/LENGTH\", expected a CIDR such as 10.0.4.0/23");
  CHECK(rejected("10.0.4.1 x #!gw subnet=10.0.400.0/24") ==
        "bad subnet \"10.0.400.0/24\": expected an IPv4 or IPv6 address before \"/\"");
  CHECK(rejected("10.0.4.1 x #!gw subnet=10.0.4.0/x") ==
        "bad subnet \"10.0.4.0/x\": expected a prefix length after \"/\"");
  CHECK(rejected("10.0.4.1 x #!gw subnet=") ==
        "bad subnet \"\": missing \"/LENGTH\", expected a CIDR such as 10.0.4.0/23");
  // One bad subnet rejects the whole line, even after good ones.
  CHECK(rejected("10.0.4.1 x #!gw subnet=10.0.4.0/24 subnet=10.0.5.1/24") ==
        "bad subnet \"10.0.5.1/24\": host bits set, expected 10.0.5.0/24");
}

TEST_CASE("bad endpoints: ports, hosts, users, IPv6 brackets") {
  const std::string expected = ", expected [user@]host[:port]";
  CHECK(rejected("10.0.3.1 x #!gw:0") ==
        "bad endpoint \"gw:0\": port \"0\" out of range 1-65535" + expected);
  CHECK(rejected("10.0.3.1 x #!gw:70000") ==
        "bad endpoint \"gw:70000\": port \"70000\" out of range 1-65535" + expected);
  CHECK(rejected("10.0.3.1 x #!gw:99999999999999999999") ==
        "bad endpoint \"gw:99999999999999999999\": port \"99999999999999999999\" out of range "
        "1-65535" + expected);
  CHECK(rejected("10.0.3.1 x #!gw:ssh") ==
        "bad endpoint \"gw:ssh\": port \"ssh\" is not a number" + expected);
  CHECK(rejected("10.0.3.1 x #!gw:-22") ==
        "bad endpoint \"gw:-22\": port \"-22\" is not a number" + expected);
  CHECK(rejected("10.0.3.1 x #!gw:") ==
        "bad endpoint \"gw:\": empty port after \":\"" + expected);
  CHECK(rejected("10.0.3.1 x #!2001:db8::5:22") ==
        "bad endpoint \"2001:db8::5:22\": an IPv6 host must be in brackets" + expected);
  CHECK(rejected("10.0.3.1 x #!2001:db8::5") ==
        "bad endpoint \"2001:db8::5\": an IPv6 host must be in brackets" + expected);
  CHECK(rejected("10.0.3.1 x #![2001:db8::5") ==
        "bad endpoint \"[2001:db8::5\": missing \"]\" after an IPv6 host" + expected);
  CHECK(rejected("10.0.3.1 x #![10.0.0.1]:22") ==
        "bad endpoint \"[10.0.0.1]:22\": brackets must hold an IPv6 address" + expected);
  CHECK(rejected("10.0.3.1 x #![]") ==
        "bad endpoint \"[]\": brackets must hold an IPv6 address" + expected);
  CHECK(rejected("10.0.3.1 x #![2001:db8::5]22") ==
        "bad endpoint \"[2001:db8::5]22\": unexpected \"22\" after \"]\"" + expected);
  CHECK(rejected("10.0.3.1 x #![2001:db8::5]:0") ==
        "bad endpoint \"[2001:db8::5]:0\": port \"0\" out of range 1-65535" + expected);
  CHECK(rejected("10.0.3.1 x #!dvpn@") == "bad endpoint \"dvpn@\": empty host" + expected);
  CHECK(rejected("10.0.3.1 x #!dvpn@:22") == "bad endpoint \"dvpn@:22\": empty host" + expected);
  CHECK(rejected("10.0.3.1 x #!:22") == "bad endpoint \":22\": empty host" + expected);
  CHECK(rejected("10.0.3.1 x #!@gw") == "bad endpoint \"@gw\": empty user" + expected);
  CHECK(rejected("10.0.3.1 x #!a@b@gw") ==
        "bad endpoint \"a@b@gw\": host \"b@gw\" may only hold letters, digits, \".\", \"_\" and "
        "\"-\"" + expected);
  CHECK(rejected("10.0.3.1 x #!r;oot@gw") ==
        "bad endpoint \"r;oot@gw\": user \"r;oot\" may only hold letters, digits, \".\", \"_\" "
        "and \"-\"" + expected);
  CHECK(rejected("10.0.3.1 x #!-oProxyCommand") ==
        "bad endpoint \"-oProxyCommand\": host \"-oProxyCommand\" starts with \"-\"" + expected);
  CHECK(rejected("10.0.3.1 x #!-l@gw") ==
        "bad endpoint \"-l@gw\": user \"-l\" starts with \"-\"" + expected);
  CHECK(rejected("10.0.3.1 x #!203.0.113.300") ==
        "bad endpoint \"203.0.113.300\": host \"203.0.113.300\" is not an IPv4 address" + expected);
  CHECK(rejected("10.0.3.1 x #!subnet=10.0.0.0/8") ==
        "option \"subnet=10.0.0.0/8\" in place of the endpoint: expected [user@]host[:port] first");
}

TEST_CASE("unknown options, bad modes and empty #! are rejected") {
  CHECK(rejected("10.0.3.1 x #!gw foo=1") ==
        "unknown option \"foo=1\": expected subnet=CIDR or mode=netcat|direct");
  CHECK(rejected("10.0.3.1 x #!gw verbose") ==
        "unknown option \"verbose\": expected subnet=CIDR or mode=netcat|direct");
  CHECK(rejected("10.0.3.1 x #!gw Subnet=10.0.0.0/8") ==
        "unknown option \"Subnet=10.0.0.0/8\": expected subnet=CIDR or mode=netcat|direct");
  CHECK(rejected("10.0.3.1 x #!gw mode=tunnel") ==
        "bad mode \"tunnel\": expected mode=netcat|direct");
  CHECK(rejected("10.0.3.1 x #!gw mode") ==
        "unknown option \"mode\": expected subnet=CIDR or mode=netcat|direct");
  CHECK(rejected("10.0.3.1 x #!gw mode=netcat mode=direct") ==
        "conflicting option \"mode=direct\": expected mode= at most once");
  CHECK(rejected("10.0.3.1 x #!") == "empty \"#!\": expected [user@]host[:port]");
  CHECK(rejected("10.0.3.1 x #!  \t ") == "empty \"#!\": expected [user@]host[:port]");
  CHECK(rejected("10.0.3.1 x #!\r") == "empty \"#!\": expected [user@]host[:port]");
}

TEST_CASE("non-UTF-8 bytes are just bytes, and escaped when quoted") {
  auto s = site("10.0.3.1 caf\xe9 #!gw");
  CHECK(s.name == "caf\xe9");
  CHECK(rejected("10.0.3.1 x #!gw\xff.example") ==
        "bad endpoint \"gw\\xff.example\": host \"gw\\xff.example\" may only hold letters, "
        "digits, \".\", \"_\" and \"-\", expected [user@]host[:port]");
  CHECK(rejected(std::string_view("10.0.3.\0 x #!gw", 15)) ==
        "bad address \"10.0.3.\\x00\": expected an IPv4 or IPv6 address");
  CHECK(rejected("10.0.3.1 x #!gw foo=\"\\") ==
        "unknown option \"foo=\\\"\\\\\": expected subnet=CIDR or mode=netcat|direct");
}

TEST_CASE("very long lines work and long bad text is cut in messages") {
  std::string names(1 << 20, 'n');
  auto s = site("10.0.3.1 " + names + " #!gw");
  CHECK(s.name.size() == names.size());

  ignored("10.0.3.1 " + names);  // a 1 MB ordinary line

  std::string bad_option = "foo=" + std::string(1 << 20, 'x');
  auto message = rejected("10.0.3.1 x #!gw " + bad_option);
  CHECK(message.size() < 200);
  CHECK(message.starts_with("unknown option \"foo=xxxx"));
  CHECK(message.find("...\": expected subnet=CIDR") != std::string::npos);

  // Many options on one line.
  std::string many = "10.0.3.1 x #!gw";
  for (int i = 0; i < 10000; ++i) many += " mode=direct";
  CHECK(site(many).mode == Mode::direct);
}

TEST_CASE("parse_hosts_text numbers lines and keeps going past bad ones") {
  Diagnostics diags;
  auto sites = parse_hosts_text(
      "# header\n"
      "10.0.3.1 thursday #!gw3\n"
      "\n"
      "10.0.3.300 bad #!gw\r\n"
      "10.0.4.1 friday #!gw4\r\n"
      "10.0.5.1 saturday #!gw5",  // no final newline
      "f.hosts", {}, diags);
  REQUIRE(sites.size() == 3);
  CHECK(sites[0].origin == "f.hosts:2");
  CHECK(sites[1].origin == "f.hosts:5");
  CHECK(sites[1].paths[0].target.host == "gw4");
  CHECK(sites[2].origin == "f.hosts:6");
  CHECK(sites[2].name == "saturday");
  REQUIRE(diags.size() == 1);
  CHECK(diags[0].to_string() ==
        "f.hosts:4: bad address \"10.0.3.300\": expected an IPv4 or IPv6 address");

  Diagnostics none;
  CHECK(parse_hosts_text("", "e.hosts", {}, none).empty());
  CHECK(parse_hosts_text("\n\n\n", "e.hosts", {}, none).empty());
  CHECK(none.empty());
}

TEST_CASE("random bytes never crash the parser; accepted sites are complete") {
  std::mt19937 rng(777);
  const std::string pieces[] = {"#!", "#", " ", "\t", "\r", "10.0.3.1", "fd00::1", "@", ":",
                                "[", "]", "subnet=", "10.0.0.0/8", "mode=", "direct", "/",
                                "gw", "\xff", "=", "22", "::", ",", ">", "u@"};
  int accepted = 0;
  for (int i = 0; i < 50000; ++i) {
    std::string line;
    auto count = std::uniform_int_distribution<int>(0, 12)(rng);
    for (int j = 0; j < count; ++j) {
      if (rng() % 4 == 0) {
        line += static_cast<char>(rng() & 0xff);
      } else {
        line += pieces[rng() % std::size(pieces)];
      }
    }
    Diagnostics diags;
    auto parsed = parse_hosts_line(line, "r", 1, {}, diags);
    CHECK(diags.size() <= 1);
    if (parsed) {
      ++accepted;
      CHECK(diags.empty());
      CHECK_FALSE(parsed->subnets.empty());
      REQUIRE_FALSE(parsed->paths.empty());
      CHECK(parsed->paths.size() <= max_paths);
      for (const auto& path : parsed->paths) {
        CHECK_FALSE(path.target.host.empty());
        if (path.relay) CHECK_FALSE(path.relay->host.empty());
      }
    }
    for (const auto& d : diags) {  // always printable ASCII
      CHECK(std::all_of(d.message.begin(), d.message.end(),
                        [](char c) { return c >= 0x20 && c < 0x7f; }));
    }
  }
  CHECK(accepted > 0);
}

TEST_CASE("one endpoint is one path without a relay") {
  auto s = site("10.0.3.1 x #!dvpn@gw.example:2222");
  REQUIRE(s.paths.size() == 1);
  CHECK_FALSE(s.paths[0].relay);
  CHECK(paths(s) == strings{"dvpn@gw.example:2222"});
}

TEST_CASE("a comma-separated #! word lists paths in the order they are tried") {
  CHECK(paths(site("10.0.3.1 x #!gw1.example.org,dvpn@198.51.100.7:2222")) ==
        strings{"gw1.example.org", "dvpn@198.51.100.7:2222"});
  CHECK(paths(site("10.0.3.1 x #!c,b,a")) == strings{"c", "b", "a"});
  // Options and notes follow the list as they follow a single endpoint.
  auto s = site("10.0.3.1 x #! a,b:2200 subnet=10.9.0.0/16 mode=direct # two ways in");
  CHECK(paths(s) == strings{"a", "b:2200"});
  CHECK(s.mode == Mode::direct);
  CHECK(subnets(s) == strings{"10.9.0.0/16"});
  CHECK(paths(site("10.0.3.1 x #!a,b\r")) == strings{"a", "b"});
}

TEST_CASE("RELAY>TARGET: through the relay, to the target as the relay sees it") {
  auto s = site("10.0.3.1 x #!dvpn@relay.example.net>dvpn@127.0.0.1:2201");
  REQUIRE(s.paths.size() == 1);
  REQUIRE(s.paths[0].relay);
  CHECK(s.paths[0].relay->user == "dvpn");
  CHECK(s.paths[0].relay->host == "relay.example.net");
  CHECK_FALSE(s.paths[0].relay->port);  // ssh.port, as for any endpoint
  CHECK(s.paths[0].target.user == "dvpn");
  CHECK(s.paths[0].target.host == "127.0.0.1");
  CHECK(s.paths[0].target.port == 2201);
  // Unset user and port stay unset on both sides.
  auto bare = site("10.0.3.1 x #!relay>site");
  CHECK_FALSE(bare.paths[0].relay->user);
  CHECK_FALSE(bare.paths[0].target.user);
  CHECK_FALSE(bare.paths[0].target.port);
}

TEST_CASE("direct and relayed paths mix in one list") {
  CHECK(paths(site("10.0.3.1 x #!dvpn@home.example.org,dvpn@relay.example.net>dvpn@127.0.0.1:2201")) ==
        strings{"dvpn@home.example.org", "dvpn@relay.example.net>dvpn@127.0.0.1:2201"});
  CHECK(paths(site("10.0.3.1 x #!r1>t:2201,r2:2222>t:2201,direct")) ==
        strings{"r1>t:2201", "r2:2222>t:2201", "direct"});
}

TEST_CASE("IPv6 literals keep their brackets in lists and on both sides of >") {
  CHECK(paths(site("10.0.3.1 x #![2001:db8::1]:22,[2001:db8::2]")) ==
        strings{"[2001:db8::1]:22", "[2001:db8::2]"});
  auto s = site("10.0.3.1 x #!u@[2001:db8::1]:2222>[::1]:2201");
  CHECK(s.paths[0].relay->host == "2001:db8::1");
  CHECK(s.paths[0].relay->port == 2222);
  CHECK(s.paths[0].target.host == "::1");
  CHECK(s.paths[0].target.port == 2201);
  const std::string expected = ", expected [user@]host[:port]";
  CHECK(rejected("10.0.3.1 x #!gw,2001:db8::5") ==
        "bad endpoint \"2001:db8::5\" in \"gw,2001:db8::5\": an IPv6 host must be in brackets" + expected);
  CHECK(rejected("10.0.3.1 x #!2001:db8::5>gw") ==
        "bad relay \"2001:db8::5\" in \"2001:db8::5>gw\": an IPv6 host must be in brackets" + expected);
  CHECK(rejected("10.0.3.1 x #!gw>[::1") ==
        "bad endpoint \"[::1\" in \"gw>[::1\": missing \"]\" after an IPv6 host" + expected);
}

TEST_CASE("up to 8 paths; a path listed twice counts once") {
  CHECK(max_paths == 8);
  CHECK(paths(site("10.0.3.1 x #!a,b,c,d,e,f,g,h")).size() == 8);
  CHECK(paths(site("10.0.3.1 x #!a,b,a,r>a,r>a")) == strings{"a", "b", "r>a"});
  CHECK(paths(site("10.0.3.1 x #!a,a,a,a,a,a,a,a")) == strings{"a"});
  // Written differently is not the same path here; resolve_target merges them
  // once the defaults are filled in.
  CHECK(paths(site("10.0.3.1 x #!gw,dvpn@gw:22")) == strings{"gw", "dvpn@gw:22"});
}

TEST_CASE("bad lists: more than 8 paths, empty items") {
  CHECK(rejected("10.0.3.1 x #!a,b,c,d,e,f,g,h,i") ==
        "too many endpoints (9) in \"a,b,c,d,e,f,g,h,i\": expected at most 8");
  CHECK(rejected("10.0.3.1 x #!a,,b") ==
        "empty endpoint 2 in \"a,,b\": expected [user@]host[:port] after \",\"");
  CHECK(rejected("10.0.3.1 x #!a,") ==
        "empty endpoint 2 in \"a,\": expected [user@]host[:port] after \",\"");
  CHECK(rejected("10.0.3.1 x #!,a") ==
        "empty endpoint 1 in \",a\": expected [user@]host[:port] before \",\"");
  CHECK(rejected("10.0.3.1 x #!,") ==
        "empty endpoint 1 in \",\": expected [user@]host[:port] before \",\"");
  CHECK(rejected("10.0.3.1 x #!a,b,") ==
        "empty endpoint 3 in \"a,b,\": expected [user@]host[:port] after \",\"");
  // A blank after a comma ends the word: the rest is read as options.
  CHECK(rejected("10.0.3.1 x #!a, b") ==
        "empty endpoint 2 in \"a,\": expected [user@]host[:port] after \",\"");
  CHECK(rejected("10.0.3.1 x #!a ,b") ==
        "unknown option \",b\": expected subnet=CIDR or mode=netcat|direct");
}

TEST_CASE("bad relays: nothing on one side of >, two >, a bad relay or target") {
  const std::string relay_form = ", expected [user@]relay[:port]>[user@]host[:port]";
  CHECK(rejected("10.0.3.1 x #!>gw") == "bad endpoint \">gw\": nothing before \">\"" + relay_form);
  CHECK(rejected("10.0.3.1 x #!relay>") == "bad endpoint \"relay>\": nothing after \">\"" + relay_form);
  CHECK(rejected("10.0.3.1 x #!>") == "bad endpoint \">\": nothing before \">\"" + relay_form);
  CHECK(rejected("10.0.3.1 x #!a>b>c") ==
        "bad endpoint \"a>b>c\": two \">\" (one relay at most)" + relay_form);
  CHECK(rejected("10.0.3.1 x #!a>>c") ==
        "bad endpoint \"a>>c\": two \">\" (one relay at most)" + relay_form);
  CHECK(rejected("10.0.3.1 x #!gw,a>b>c") ==
        "bad endpoint \"a>b>c\" in \"gw,a>b>c\": two \">\" (one relay at most)" + relay_form);
  CHECK(rejected("10.0.3.1 x #!gw,>t") ==
        "bad endpoint \">t\" in \"gw,>t\": nothing before \">\"" + relay_form);

  const std::string expected = ", expected [user@]host[:port]";
  CHECK(rejected("10.0.3.1 x #!relay:0>t") ==
        "bad relay \"relay:0\" in \"relay:0>t\": port \"0\" out of range 1-65535" + expected);
  CHECK(rejected("10.0.3.1 x #!-oProxyCommand>t") ==
        "bad relay \"-oProxyCommand\" in \"-oProxyCommand>t\": host \"-oProxyCommand\" starts with \"-\"" +
            expected);
  CHECK(rejected("10.0.3.1 x #!relay>dvpn@") ==
        "bad endpoint \"dvpn@\" in \"relay>dvpn@\": empty host" + expected);
  CHECK(rejected("10.0.3.1 x #!gw,relay>t:ssh") ==
        "bad endpoint \"t:ssh\" in \"gw,relay>t:ssh\": port \"ssh\" is not a number" + expected);
  CHECK(rejected("10.0.3.1 x #!gw,gw2:70000") ==
        "bad endpoint \"gw2:70000\" in \"gw,gw2:70000\": port \"70000\" out of range 1-65535" + expected);
  // The first bad item is the one reported.
  CHECK(rejected("10.0.3.1 x #!a:0,b:0") ==
        "bad endpoint \"a:0\" in \"a:0,b:0\": port \"0\" out of range 1-65535" + expected);
  CHECK(rejected("10.0.3.1 x #!gw,subnet=10.0.0.0/8") ==
        "option \"gw,subnet=10.0.0.0/8\" in place of the endpoint: expected [user@]host[:port] first");
}
