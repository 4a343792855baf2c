#include "hosts_watch.hpp"

#include <sys/inotify.h>
#include <sys/stat.h>

#include <filesystem>

#include "log.hpp"

namespace dvpn {
namespace {

constexpr auto debounce_delay = std::chrono::milliseconds(100);
constexpr std::uint32_t event_mask =
    IN_CLOSE_WRITE | IN_MODIFY | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_ATTRIB;

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

HostsWatcher::HostsWatcher(boost::asio::io_context& io, const std::vector<std::string>& sources,
                           std::function<void()> on_change)
    : inotify_(io), debounce_(io), on_change_(std::move(on_change)), buffer_(64 * 1024) {
  int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) {
    DVPN_LOG(warning) << "inotify unavailable; hosts changes take effect on SIGHUP only";
    return;
  }
  inotify_.assign(fd);
  std::map<std::string, Watch> by_dir;
  for (const auto& source : sources) {
    std::error_code ec;
    bool is_dir = std::filesystem::is_directory(source, ec);
    // A file is watched through its directory, so an atomic rename over it is seen too.
    std::string dir = is_dir ? source : std::filesystem::path(source).parent_path().string();
    if (dir.empty()) dir = ".";
    Watch& watch = by_dir[dir];
    watch.dir = dir;
    if (!is_dir) watch.names.push_back(std::filesystem::path(source).filename().string());
    else watch.names.push_back("");  // marker: every *.hosts
  }
  for (auto& [dir, watch] : by_dir) {
    int wd = inotify_add_watch(fd, dir.c_str(), event_mask);
    if (wd < 0) {
      DVPN_LOG(warning) << "cannot watch " << dir << " for hosts changes; use SIGHUP";
      continue;
    }
    watches_[wd] = watch;
  }
  read_events();
}

HostsWatcher::~HostsWatcher() = default;

bool HostsWatcher::relevant(int wd, const char* name) const {
  auto it = watches_.find(wd);
  if (it == watches_.end()) return false;
  std::string file = name ? name : "";
  for (const auto& wanted : it->second.names) {
    if (wanted.empty() ? ends_with(file, ".hosts") : wanted == file) return true;
  }
  return false;
}

void HostsWatcher::read_events() {
  inotify_.async_read_some(boost::asio::buffer(buffer_), [this](const boost::system::error_code& ec, std::size_t n) {
    if (ec) return;
    bool changed = false;
    for (std::size_t offset = 0; offset + sizeof(inotify_event) <= n;) {
      const auto* event = reinterpret_cast<const inotify_event*>(buffer_.data() + offset);
      if (relevant(event->wd, event->len ? event->name : nullptr)) changed = true;
      offset += sizeof(inotify_event) + event->len;
    }
    if (changed) {
      debounce_.expires_after(debounce_delay);
      debounce_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) on_change_();
      });
    }
    read_events();
  });
}

}  // namespace dvpn
