// The pure value parsers: durations, sizes, command templates (listen
// addresses: tests/unit/hostsdb/ip_endpoint_test.cpp).
#include <doctest/doctest.h>

#include <limits>

#include "config.hpp"

using namespace dvpn::config;
using namespace std::chrono_literals;

TEST_CASE("parse_duration reads each unit") {
  CHECK(parse_duration("250ms") == 250ms);
  CHECK(parse_duration("5s") == 5s);
  CHECK(parse_duration("1m") == 1min);
  CHECK(parse_duration("2h") == 2h);
  CHECK(parse_duration("0s") == 0ms);
  CHECK(parse_duration("007s") == 7s);
}

TEST_CASE("parse_duration rejects bare numbers, unknown units and stray text") {
  for (const char* text : {"", "5", "0", "s", "ms", "5S", "5sec", "5 s", " 5s", "5s ", "1.5s", "-5s",
                           "+5s", "5d", "5us", "1m30s", "5ms5", "0x10s"}) {
    CAPTURE(text);
    CHECK_FALSE(parse_duration(text).has_value());
  }
}

TEST_CASE("parse_duration rejects values that overflow milliseconds") {
  const auto max_ms = std::numeric_limits<Duration::rep>::max();
  CHECK(parse_duration(std::to_string(max_ms) + "ms") == Duration(max_ms));
  CHECK_FALSE(parse_duration(std::to_string(max_ms / 1000 + 1) + "s").has_value());
  CHECK_FALSE(parse_duration("9223372036854775808ms").has_value());   // 2^63
  CHECK_FALSE(parse_duration("18446744073709551616ms").has_value());  // 2^64: overflows the digits
  CHECK_FALSE(parse_duration("99999999999999999999999h").has_value());
}

TEST_CASE("parse_size reads bytes and binary units") {
  CHECK(parse_size("65536") == 65536u);
  CHECK(parse_size("0") == 0u);
  CHECK(parse_size("100B") == 100u);
  CHECK(parse_size("64KiB") == 65536u);
  CHECK(parse_size("1MiB") == 1048576u);
  CHECK(parse_size("1GiB") == 1073741824u);
  CHECK(parse_size("3GiB") == 3ull << 30);
}

TEST_CASE("parse_size rejects decimal or unknown units and stray text") {
  for (const char* text : {"", "KiB", "1KB", "1kib", "1K", "1k", "1MB", "1M", "1TiB", "1.5MiB", "-1",
                           "+1", " 1", "1 ", "1 KiB", "0x100"}) {
    CAPTURE(text);
    CHECK_FALSE(parse_size(text).has_value());
  }
}

TEST_CASE("parse_size rejects values that overflow 64 bits") {
  CHECK(parse_size("18446744073709551615") == std::numeric_limits<std::uint64_t>::max());
  CHECK_FALSE(parse_size("18446744073709551616").has_value());
  CHECK(parse_size("17179869183GiB") == 17179869183ull << 30);
  CHECK_FALSE(parse_size("17179869184GiB").has_value());  // 2^34 GiB = 2^64 bytes
}

TEST_CASE("check_command_template wants {host} and {port} and no other placeholder") {
  CHECK(check_command_template("nc {host} {port}") == "");
  CHECK(check_command_template("exec nc -w 5 {host} {port}") == "");
  CHECK(check_command_template("nc {host} {port} {host}") == "");
  // Braces that are not {word} are ordinary command text, e.g. a shell group.
  CHECK(check_command_template("{ nc {host} {port}; }") == "");
  CHECK(check_command_template("nc {host} {port} {}") == "");

  CHECK(check_command_template("nc {port}") == "has no {host} placeholder");
  CHECK(check_command_template("nc {host}") == "has no {port} placeholder");
  CHECK(check_command_template("") == "has no {host} placeholder");
  CHECK(check_command_template("nc {HOST} {port}") == "has an unknown placeholder {HOST}");
  CHECK(check_command_template("nc {host} {port} {user}") == "has an unknown placeholder {user}");
  CHECK(check_command_template("nc {host} {port_}") == "has an unknown placeholder {port_}");
  CHECK(check_command_template("nc {host} {port") == "has no {port} placeholder");
}

TEST_CASE("enum spellings match the config file's words") {
  CHECK(std::string(to_string(HostKeyPolicy::strict)) == "strict");
  CHECK(std::string(to_string(HostKeyPolicy::accept_new)) == "accept-new");
  CHECK(std::string(to_string(LogLevel::debug)) == "debug");
  CHECK(std::string(to_string(LogLevel::warning)) == "warning");
  CHECK(std::string(to_string(LogTarget::stderr_)) == "stderr");
  CHECK(std::string(to_string(LogTarget::syslog)) == "syslog");
}
