#include "loader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <system_error>

namespace dvpn::hostsdb {
namespace {

namespace fs = std::filesystem;

// Hidden files are skipped: tools that replace a file atomically write a
// dot-file first (".site.hosts.tmp", ".new.hosts") and rename it into place.
bool is_hosts_file(const fs::directory_entry& entry) {
  auto name = entry.path().filename().string();
  std::error_code ec;
  return name.size() > 6 && name.ends_with(".hosts") && name[0] != '.' &&
         entry.is_regular_file(ec);
}

// Files of `sources` in reading order; a directory that cannot be listed adds
// an error to `diags` when given.
std::vector<std::string> expand(const std::vector<std::string>& sources, Diagnostics* diags) {
  std::vector<std::string> files;
  for (const auto& source : sources) {
    std::error_code ec;
    if (!fs::is_directory(source, ec)) {
      files.push_back(source);  // missing files are reported when read
      continue;
    }
    std::vector<std::string> found;
    for (fs::directory_iterator it(source, ec), end; !ec && it != end; it.increment(ec)) {
      if (is_hosts_file(*it)) found.push_back(it->path().string());
    }
    if (ec && diags)
      diags->push_back({Diagnostic::Severity::error, source, "cannot read: " + ec.message()});
    // Byte order, not the locale's collation, so the order is the same everywhere.
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

// The whole file, or the errno that stopped reading it.
int read_file(const std::string& path, std::string& out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    return EISDIR;
  }
  if (st.st_size > 0) out.reserve(static_cast<std::size_t>(st.st_size));
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return err;
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return 0;
}

}  // namespace

bool LoadResult::has_errors() const noexcept {
  return std::any_of(diags.begin(), diags.end(), [](const Diagnostic& d) {
    return d.severity == Diagnostic::Severity::error;
  });
}

LoadResult load_sources(const std::vector<std::string>& sources, const SitePrefix& widen) {
  LoadResult result;
  std::vector<Site> sites;
  for (const auto& file : expand(sources, &result.diags)) {
    std::string text;
    if (int err = read_file(file, text)) {
      result.diags.push_back(
          {Diagnostic::Severity::error, file, "cannot read: " + std::system_category().message(err)});
      continue;
    }
    auto found = parse_hosts_text(text, file, widen, result.diags);
    if (sites.empty()) {
      sites = std::move(found);  // the common case of one big file: no copy
    } else {
      sites.insert(sites.end(), std::make_move_iterator(found.begin()),
                   std::make_move_iterator(found.end()));
    }
  }
  result.table = RouteTable::build(std::move(sites), result.diags);
  return result;
}

std::vector<std::string> expand_sources(const std::vector<std::string>& sources) {
  return expand(sources, nullptr);
}

}  // namespace dvpn::hostsdb
