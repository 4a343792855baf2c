#pragma once
// Small, cheap logging: the level is checked before anything is formatted,
// each line leaves in one write(2) (stderr) or one syslog(3) call.
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

}  // namespace dvpn::log

// Use it as a statement of its own (in braces after an if).
#define DVPN_LOG(lvl) \
  if (!::dvpn::log::enabled(::dvpn::log::Level::lvl)) { \
  } else \
    ::dvpn::log::Line(::dvpn::log::Level::lvl)
