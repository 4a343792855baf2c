#include <doctest/doctest.h>

#include "cli.hpp"

using dvpn::Options;
using dvpn::parse_options;

TEST_CASE("no arguments runs the daemon with the default config") {
  auto parsed = parse_options({});
  REQUIRE(parsed.options);
  CHECK(parsed.options->action == Options::Action::run);
  CHECK(parsed.options->config_path == "/etc/dvpn/dvpn.yaml");
}

TEST_CASE("-c, --check and --lookup combine") {
  auto parsed = parse_options({"-c", "x.yaml", "--lookup", "10.0.3.7:80"});
  REQUIRE(parsed.options);
  CHECK(parsed.options->config_path == "x.yaml");
  CHECK(parsed.options->action == Options::Action::lookup);
  CHECK(parsed.options->lookup_target == "10.0.3.7:80");
  CHECK(parse_options({"--check", "--config", "y"}).options->action == Options::Action::check);
}

TEST_CASE("usage errors name the problem") {
  CHECK(parse_options({"-c"}).error == "-c needs a FILE");
  CHECK(parse_options({"--lookup"}).error == "--lookup needs ADDR[:PORT]");
  CHECK(parse_options({"--bogus"}).error == "unknown option \"--bogus\"");
  CHECK_FALSE(parse_options({"--check", "--lookup", "1.2.3.4"}).options);
  CHECK_FALSE(parse_options({"--json"}).options);
  CHECK(parse_options({"--status", "--json"}).options->json);
}
