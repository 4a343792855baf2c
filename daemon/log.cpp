#include "log.hpp"

#include <syslog.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>

namespace dvpn::log {
namespace {

std::atomic<int> min_level{static_cast<int>(Level::info)};
std::atomic<Target> target{Target::stderr_};

const char* prefix(Level level) {
  switch (level) {
    case Level::debug: return "debug: ";
    case Level::info: return "info: ";
    case Level::warning: return "warning: ";
    case Level::error: return "error: ";
  }
  return "";
}

int syslog_priority(Level level) {
  switch (level) {
    case Level::debug: return LOG_DEBUG;
    case Level::info: return LOG_INFO;
    case Level::warning: return LOG_WARNING;
    case Level::error: return LOG_ERR;
  }
  return LOG_INFO;
}

long now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace

void setup(Level level, Target where) {
  min_level = static_cast<int>(level);
  target = where;
  if (where == Target::syslog) openlog("dvpnd", LOG_PID, LOG_DAEMON);
}

bool enabled(Level level) noexcept { return static_cast<int>(level) >= min_level.load(std::memory_order_relaxed); }

Line::~Line() {
  if (target == Target::syslog) {
    syslog(syslog_priority(level_), "%s", out_.str().c_str());
    return;
  }
  std::string text = "dvpnd: ";
  text += prefix(level_);
  text += out_.str();
  text += '\n';
  // One write keeps lines from different threads whole.
  ssize_t ignored = ::write(STDERR_FILENO, text.data(), text.size());
  (void)ignored;
}

bool RateLimit::allow(unsigned long& suppressed) noexcept {
  std::lock_guard lock(mu_);
  long now = now_ms();
  if (now - last_ms_ < interval_ms_) {
    ++suppressed_;
    return false;
  }
  last_ms_ = now;
  suppressed = suppressed_;
  suppressed_ = 0;
  return true;
}

void Limited::append_suppressed(Line& line, unsigned long suppressed) {
  if (suppressed) line << " (" << suppressed << " similar suppressed)";
}

bool Limited::allow(std::string_view held_back) {
  unsigned long suppressed = 0;
  if (!limit_.allow(suppressed)) return false;
  if (suppressed && enabled(Level::warning)) Line(Level::warning) << suppressed << ' ' << held_back;
  return true;
}

}  // namespace dvpn::log
