// log::Limited: at most one warning per interval, and the one that speaks
// counts the others the same way at every call site.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>

#include "log.hpp"

namespace {

// Runs `body` with stderr (where log lines go) sent to a temporary file;
// returns what was written.
template <typename Body>
std::string stderr_of(Body&& body) {
  std::FILE* file = std::tmpfile();
  REQUIRE(file);
  const int saved = dup(STDERR_FILENO);
  dup2(fileno(file), STDERR_FILENO);
  body();
  dup2(saved, STDERR_FILENO);
  close(saved);
  std::string out;
  std::rewind(file);
  for (int c; (c = std::fgetc(file)) != EOF;) out += static_cast<char>(c);
  std::fclose(file);
  return out;
}

// Counts, of `n` quick calls, the ones held back after the last that spoke.
template <typename Call>
unsigned held_back_after_last(unsigned n, Call&& call) {
  unsigned held = 0;
  for (unsigned i = 0; i < n; ++i) held = call() ? 0 : held + 1;
  return held;
}

constexpr auto interval = std::chrono::milliseconds(200);

}  // namespace

TEST_CASE("a limited warning speaks once per interval and counts the rest") {
  dvpn::log::setup(dvpn::log::Level::info, dvpn::log::Target::stderr_);
  dvpn::log::Limited limited(interval);
  auto warn = [&] { return limited.warn([](dvpn::log::Line& line) { line << "accept failed: x"; }); };
  unsigned held = 0;
  const auto first = stderr_of([&] {
    CHECK(warn());  // the first always speaks
    held = held_back_after_last(4, warn);
  });
  CHECK(first.starts_with("dvpnd: warning: accept failed: x\n"));
  std::this_thread::sleep_for(interval + std::chrono::milliseconds(50));
  const auto next = stderr_of([&] { CHECK(warn()); });
  if (held > 0) {
    CHECK(next == "dvpnd: warning: accept failed: x (" + std::to_string(held) + " similar suppressed)\n");
  } else {
    CHECK(next == "dvpnd: warning: accept failed: x\n");
  }
}

TEST_CASE("a limit for lines logged elsewhere writes only the count, and only when it held some back") {
  dvpn::log::setup(dvpn::log::Level::info, dvpn::log::Target::stderr_);
  dvpn::log::Limited limited(interval);
  auto allow = [&] { return limited.allow("more connections were reset"); };
  unsigned held = 0;
  const auto first = stderr_of([&] {
    CHECK(allow());
    held = held_back_after_last(4, allow);
  });
  CHECK(first.empty());
  std::this_thread::sleep_for(interval + std::chrono::milliseconds(50));
  const auto next = stderr_of([&] { CHECK(allow()); });
  CHECK(next == (held ? "dvpnd: warning: " + std::to_string(held) + " more connections were reset\n" : ""));
}
