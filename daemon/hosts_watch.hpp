#pragma once
// Watches the hosts sources with inotify and calls back (debounced) when any
// of them may have changed: an append, a file dropped into a hosts
// directory, an atomic rename over a file.
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace dvpn {

class HostsWatcher {
 public:
  HostsWatcher(boost::asio::io_context& io, const std::vector<std::string>& sources, std::function<void()> on_change);
  ~HostsWatcher();

 private:
  struct Watch {
    std::string dir;
    std::vector<std::string> names;  // files of interest in dir; empty = every *.hosts
  };
  void read_events();
  bool relevant(int wd, const char* name) const;

  boost::asio::posix::stream_descriptor inotify_;
  boost::asio::steady_timer debounce_;
  std::function<void()> on_change_;
  std::map<int, Watch> watches_;
  std::vector<char> buffer_;
};

}  // namespace dvpn
