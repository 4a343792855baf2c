// Loading hosts sources: fixtures under $DVPN_FIXTURES/hosts and temp files.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "loader.hpp"

using namespace dvpn::hostsdb;
namespace fs = std::filesystem;

namespace {

std::string fixture(std::string_view name) {
  const char* root = std::getenv("DVPN_FIXTURES");
  REQUIRE_MESSAGE(root, "DVPN_FIXTURES is not set: run through meson test");
  return std::string(root) + "/hosts/" + std::string(name);
}

std::string route(const RouteTable& table, std::string_view dest) {
  const Site* s = table.lookup(*Ip::parse(dest));
  return s ? s->name : "-";
}

std::vector<std::string> names(const RouteTable& table) {
  std::vector<std::string> out;
  for (const auto& s : table.sites()) out.push_back(s.name);
  return out;
}

// A fresh directory removed when the test ends.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "hostsdb-test-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()));
    path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string write(const std::string& name, std::string_view text) const {
    auto file = (path / name).string();
    std::ofstream(file, std::ios::binary) << text;
    return file;
  }
};

using strings = std::vector<std::string>;

}  // namespace

TEST_CASE("good.hosts loads every site and nothing else") {
  auto result = load_sources({fixture("good.hosts")}, {});
  for (const auto& d : result.diags) MESSAGE(d.to_string());
  CHECK(result.diags.empty());
  CHECK_FALSE(result.has_errors());
  CHECK(names(result.table) == strings{"thursday", "friday", "saturday", ""});
  const auto& sites = result.table.sites();
  CHECK(sites[0].origin == fixture("good.hosts") + ":6");
  CHECK(sites[1].paths[0].target.port == 2222);
  CHECK(sites[3].paths[0].target.host == "gw7.example");
  CHECK(sites[3].mode == Mode::netcat);
  CHECK(route(result.table, "10.0.3.99") == "thursday");
  CHECK(route(result.table, "10.0.5.99") == "friday");
  CHECK(route(result.table, "fd00:5::99") == "saturday");
  CHECK(route(result.table, "fd00:7:0:1::1") == "");
  CHECK(route(result.table, "10.0.8.1") == "-");  // plain hosts line, not a site
  CHECK(route(result.table, "10.0.9.1") == "-");  // commented-out site
  CHECK(route(result.table, "127.0.0.1") == "-");
}

TEST_CASE("bad-lines.hosts warns once per bad site line and loads the rest") {
  auto file = fixture("bad-lines.hosts");
  auto result = load_sources({file}, {});
  CHECK_FALSE(result.has_errors());
  CHECK(names(result.table) == strings{"good-one", "good-two"});
  strings got;
  for (const auto& d : result.diags) {
    CHECK(d.severity == Diagnostic::Severity::warning);
    got.push_back(d.to_string());
  }
  const std::string ep = ", expected [user@]host[:port]";
  CHECK(got == strings{
      file + ":3: bad address \"10.0.3.300\": expected an IPv4 or IPv6 address",
      file + ":4: bad subnet \"10.2.2.0\": missing \"/LENGTH\", expected a CIDR such as 10.0.4.0/23",
      file + ":5: bad subnet \"10.0.4.1/23\": host bits set, expected 10.0.4.0/23",
      file + ":6: bad subnet \"10.2.4.0/33\": prefix length 33 out of range, expected 0-32",
      file + ":7: bad endpoint \"gw.example:0\": port \"0\" out of range 1-65535" + ep,
      file + ":8: bad endpoint \"gw.example:70000\": port \"70000\" out of range 1-65535" + ep,
      file + ":9: bad endpoint \"2001:db8::5:22\": an IPv6 host must be in brackets" + ep,
      file + ":10: bad endpoint \"dvpn@:22\": empty host" + ep,
      file + ":11: unknown option \"foo=1\": expected subnet=CIDR or mode=netcat|direct",
      file + ":12: empty \"#!\": expected [user@]host[:port]",
      file + ":13: bad mode \"tunnel\": expected mode=netcat|direct",
  });
}

TEST_CASE("crlf.hosts loads as if it had LF endings") {
  auto result = load_sources({fixture("crlf.hosts")}, {});
  CHECK(result.diags.empty());
  REQUIRE(names(result.table) == strings{"alpha", "beta"});
  const auto& beta = result.table.sites()[1];
  CHECK(beta.paths[0].target.user == "ops");
  CHECK(beta.paths[0].target.host == "gw-beta.example");
  CHECK(beta.paths[0].target.port == 2200);
  CHECK(beta.subnets[0].to_string() == "10.1.0.0/16");
  CHECK(route(result.table, "10.1.0.9") == "alpha");  // /24 beats beta's /16
  CHECK(route(result.table, "10.1.200.9") == "beta");
}

TEST_CASE("paths.hosts: lists and relays load; each bad one is one warning at its line") {
  auto file = fixture("paths.hosts");
  auto result = load_sources({file}, {});
  CHECK_FALSE(result.has_errors());
  REQUIRE(names(result.table) == strings{"failover", "natted", "both", "v6", "last"});
  const auto& sites = result.table.sites();
  REQUIRE(sites[0].paths.size() == 2);
  CHECK(sites[0].paths[0] == Path{std::nullopt, {std::nullopt, "gw1.example.org", std::nullopt}});
  CHECK(sites[0].paths[1] == Path{std::nullopt, {"dvpn", "198.51.100.7", 2222}});
  REQUIRE(sites[1].paths.size() == 1);
  CHECK(sites[1].paths[0] == Path{Endpoint{"dvpn", "relay.example.net", std::nullopt}, {"dvpn", "127.0.0.1", 2201}});
  CHECK(sites[1].mode == Mode::direct);
  REQUIRE(sites[2].paths.size() == 2);
  CHECK_FALSE(sites[2].paths[0].relay);
  CHECK(sites[2].paths[0].target.host == "home.example.org");
  CHECK(sites[2].paths[1] == sites[1].paths[0]);
  REQUIRE(sites[3].paths.size() == 2);
  CHECK(sites[3].paths[1] == Path{Endpoint{std::nullopt, "2001:db8::1", std::nullopt}, {std::nullopt, "::1", 2202}});
  CHECK(route(result.table, "10.6.2.9") == "both");
  CHECK(route(result.table, "10.6.3.9") == "-");  // skipped line: no site

  strings got;
  for (const auto& d : result.diags) got.push_back(d.to_string());
  const std::string relay = ", expected [user@]relay[:port]>[user@]host[:port]";
  CHECK(got == strings{
      file + ":6: empty endpoint 2 in \"a.example,,b.example\": expected [user@]host[:port] after \",\"",
      file + ":7: bad endpoint \">dvpn@127.0.0.1:2201\": nothing before \">\"" + relay,
      file + ":8: bad endpoint \"dvpn@relay.example.net>\": nothing after \">\"" + relay,
      file + ":9: bad endpoint \"a.example>b.example>c.example\": two \">\" (one relay at most)" + relay,
      file + ":10: too many endpoints (9) in \"a,b,c,d,e,f,g,h,i\": expected at most 8",
      file + ":11: bad relay \"relay.example.net:0\" in \"relay.example.net:0>127.0.0.1:2201\": port \"0\" "
             "out of range 1-65535, expected [user@]host[:port]",
  });
}

TEST_CASE("non-utf8.hosts keeps odd bytes in names and escapes them in warnings") {
  auto file = fixture("non-utf8.hosts");
  auto result = load_sources({file}, {});
  CHECK(names(result.table) == strings{"caf\xe9", "\xc3\xa9t\xc3\xa9"});
  REQUIRE(result.diags.size() == 1);
  CHECK(result.diags[0].where == file + ":2");
  CHECK(result.diags[0].message.starts_with("bad endpoint \"gw\\xff.example\""));
}

TEST_CASE("a directory contributes its *.hosts files sorted by name, and only those") {
  auto dir = fixture("dir");
  CHECK(expand_sources({dir}) == strings{dir + "/a.hosts", dir + "/b.hosts"});
  auto result = load_sources({dir}, {});
  CHECK(result.diags.empty());
  CHECK(names(result.table) == strings{"a-site", "b-site"});
  CHECK(result.table.sites()[0].origin == dir + "/a.hosts:1");
  CHECK(route(result.table, "10.4.9.1") == "-");  // notes.txt
  CHECK(route(result.table, "10.4.8.1") == "-");  // .editing.hosts, hidden
  CHECK(route(result.table, "10.4.7.1") == "-");  // nested.hosts/ is a directory
}

TEST_CASE("sources are read in the order given") {
  auto dir = fixture("dir");
  auto good = fixture("good.hosts");
  CHECK(expand_sources({good, dir, fixture("crlf.hosts")}) ==
        strings{good, dir + "/a.hosts", dir + "/b.hosts", fixture("crlf.hosts")});
  TempDir tmp;
  auto one = tmp.write("one", "10.6.0.1 from-one #!gw\n");
  auto two = tmp.write("two", "10.6.0.2 from-two #!gw\n");
  auto a = load_sources({two, one}, {});
  CHECK(route(a.table, "10.6.0.9") == "from-two");
  REQUIRE(a.diags.size() == 1);
  CHECK(a.diags[0].where == one + ":1");
  CHECK(a.diags[0].message.find("already claimed by \"from-two\" at " + two + ":1") !=
        std::string::npos);
  auto b = load_sources({one, two}, {});
  CHECK(route(b.table, "10.6.0.9") == "from-one");
}

TEST_CASE("duplicate.hosts: the first site keeps the prefix, the second is warned") {
  auto file = fixture("duplicate.hosts");
  auto result = load_sources({file}, {});
  REQUIRE(result.diags.size() == 1);
  CHECK(result.diags[0].to_string() ==
        file + ":2: subnet 10.5.0.0/24 is already claimed by \"first\" at " + file +
            ":1, expected each subnet in one site only; ignored here");
  CHECK(route(result.table, "10.5.0.9") == "first");
  CHECK(route(result.table, "10.5.1.9") == "second");
}

TEST_CASE("a missing source is an error and the other sources still load") {
  auto missing = fixture("no-such-file.hosts");
  auto result = load_sources({missing, fixture("crlf.hosts")}, {});
  CHECK(result.has_errors());
  REQUIRE(result.diags.size() == 1);
  CHECK(result.diags[0].severity == Diagnostic::Severity::error);
  CHECK(result.diags[0].to_string() == missing + ": cannot read: No such file or directory");
  CHECK(names(result.table) == strings{"alpha", "beta"});
  CHECK(expand_sources({missing}) == strings{missing});
}

TEST_CASE("an empty file and an empty source list load an empty table") {
  auto result = load_sources({fixture("empty.hosts")}, {});
  CHECK(result.diags.empty());
  CHECK(result.table.size() == 0);
  CHECK(load_sources({}, {}).table.size() == 0);
  CHECK(expand_sources({}).empty());
}

TEST_CASE("site_prefix widening applies to loaded files") {
  auto result = load_sources({fixture("good.hosts")}, SitePrefix{16, 48});
  CHECK(result.table.sites()[0].subnets[0].to_string() == "10.0.0.0/16");
  CHECK(result.table.sites()[2].subnets[0].to_string() == "fd00:5::/48");
  CHECK(route(result.table, "10.0.200.1") == "thursday");
}

TEST_CASE("a 1 MB line and a file without a final newline load") {
  TempDir tmp;
  std::string text = "10.7.0.1 " + std::string(1 << 20, 'n') + " #!gw\n";
  text += std::string(1 << 20, '#') + "\n";
  text += "10.7.1.1 last #!gw-last";
  auto file = tmp.write("long.hosts", text);
  auto result = load_sources({file}, {});
  CHECK(result.diags.empty());
  REQUIRE(result.table.size() == 2);
  CHECK(result.table.sites()[0].name.size() == (1u << 20));
  CHECK(result.table.sites()[1].origin == file + ":3");
  CHECK(route(result.table, "10.7.1.5") == "last");
}

TEST_CASE("Diagnostic::to_string is FILE:LINE: message") {
  Diagnostic d{Diagnostic::Severity::warning, "x.hosts:4", "bad thing"};
  CHECK(d.to_string() == "x.hosts:4: bad thing");
  CHECK(quote("a\"b\\c\n\x01\xff") == "\"a\\\"b\\\\c\\x0a\\x01\\xff\"");
  CHECK(quote(std::string(100, 'z')) == "\"" + std::string(80, 'z') + "...\"");
}
