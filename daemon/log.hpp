#pragma once
// Small, cheap logging: the level is checked before anything is formatted,
// each line leaves in one write(2) (stderr) or one syslog(3) call.
#include <chrono>
#include <mutex>
#include <sstream>
#include <string_view>

namespace dvpn::log {

enum class Level { debug = 0, info = 1, warning = 2, error = 3 };
enum class Target { stderr_, syslog };

void setup(Level min_level, Target target);
bool enabled(Level level) noexcept;

// Collects one line and emits it when destroyed.
class Line {
 public:
  explicit Line(Level level) : level_(level) {}
  Line(const Line&) = delete;
  Line& operator=(const Line&) = delete;
  ~Line();

  template <typename T>
  Line& operator<<(const T& value) {
    out_ << value;
    return *this;
  }

 private:
  Level level_;
  std::ostringstream out_;
};

// Lets a caller warn at most once per interval about a recurring condition.
// Limited (below) adds the line and its count; use that for a new warning.
class RateLimit {
 public:
  explicit RateLimit(long interval_ms) : interval_ms_(interval_ms) {}
  // True when a message may be logged now; counts the ones suppressed.
  bool allow(unsigned long& suppressed) noexcept;

 private:
  std::mutex mu_;
  long interval_ms_;
  long last_ms_ = -1'000'000'000;
  unsigned long suppressed_ = 0;
};

// A warning about a recurring condition (accept failures, rejections), written
// at most once per interval. Every such warning counts what it held back the
// same way, so one grep finds them all. Keep one per call site (a static).
class Limited {
 public:
  explicit Limited(std::chrono::milliseconds interval) : limit_(interval.count()) {}

  // If the interval allows, writes the warning `write(Line&)` composes, ending
  // in " (N similar suppressed)" when N were held back since the last one.
  // True when it spoke, so the caller can log the rest at debug level. The
  // line is only formatted when it is written.
  template <typename Write>
  bool warn(Write&& write) {
    unsigned long suppressed = 0;
    if (!limit_.allow(suppressed)) return false;
    if (enabled(Level::warning)) {
      Line line(Level::warning);
      write(line);
      append_suppressed(line, suppressed);
    }
    return true;
  }

  // For a condition whose own line is written elsewhere (a connection's end=
  // line at warning level): true when one may speak now, and then, if N were
  // held back since, first a warning "N <held_back>" of its own.
  bool allow(std::string_view held_back);

 private:
  static void append_suppressed(Line& line, unsigned long suppressed);
  RateLimit limit_;
};

}  // namespace dvpn::log

// Use it as a statement of its own (in braces after an if).
#define DVPN_LOG(lvl) \
  if (!::dvpn::log::enabled(::dvpn::log::Level::lvl)) { \
  } else \
    ::dvpn::log::Line(::dvpn::log::Level::lvl)
