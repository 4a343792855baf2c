// dvpn-delayline — a user-space WAN link between two network namespaces, for
// tests and benchmarks (the test kernel has no netem).
//
// It creates one TUN device in each of two namespaces and forwards IP packets
// between them. Each direction has its own one-way delay, random loss and
// rate limit; a rate-limited direction queues at most --queue-kib bytes and
// drops the tail beyond that, as a router does. A blackhole switch drops
// everything, in flight included (a cut cable). Settings change at run time:
//   SIGUSR1  blackhole on          SIGUSR2  blackhole off
//   SIGHUP   re-read --control FILE (the command line's options, then the
//            file's on top; the blackhole keeps its state unless the file
//            names --blackhole)
//   SIGTERM / SIGINT  exit 0 (the devices vanish with us)
// --status FILE ("key value" lines: settings, counters, and a "changes N"
// a caller can wait on) is rewritten every second, after every change and at
// exit. --lifetime bounds the run. Packet counters count reads: a GSO packet
// (see below) is one.
//
// One thread per direction: it reads its input device in batches (poll, then
// non-blocking reads until empty or 64 packets), stamps each packet with its
// due time and delivers from a FIFO byte ring (packet_ring.h) when due. The
// due time is the later of "left the rate limiter + delay" and the previous
// packet's, so packets never overtake each other (a wire does not reorder).
// IFF_NO_PI: no protocol header to add or strip. MTU 1500 as on a real WAN,
// but IFF_VNET_HDR with TSO offloads: a direction without loss moves GSO
// packets of up to 64 KiB (one read and one write for ~44 segments). At
// MTU-sized packets, one read and one write each, the tun path in the kernel
// cost ~0.6 core per Gbit/s here and capped a routed path near 0.7-1.1 Gbit/s.
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "packet_ring.h"

namespace {

constexpr const char* kProg = "dvpn-delayline";
constexpr int kBatch = 64;            // reads per wake-up before delivering again
// IFF_VNET_HDR puts a struct virtio_net_hdr (10 bytes; <linux/virtio_net.h>
// does not compile as C++) before every packet: GSO type and segment size,
// checksum offsets. We pass it on unread, so only its size matters, and it
// is set explicitly (TUNSETVNETHDRSZ). A read: that header, then a packet of
// up to 64 KiB.
constexpr int kVnetHdr = 10;
constexpr size_t kReadMax = kVnetHdr + 65536;

[[noreturn]] void die(const std::string& msg, int code = 2) {
  std::fprintf(stderr, "%s: %s\n", kProg, msg.c_str());
  std::exit(code);
}

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

int64_t mono_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// ---- settings ---------------------------------------------------------------------
struct DirParams {
  double delay_ms = 0;
  double loss_pct = 0;
  double rate_mbit = 0;   // 0: no limit
  double queue_kib = 0;   // 0: 50 ms at the rate, at least 64 KiB
};

struct Params {
  DirParams dir[2];        // [0] a->b, [1] b->a
  bool blackhole = false;
  bool blackhole_set = false;  // named by the options just parsed (for SIGHUP)
};

struct Options {
  std::string ns[2], dev[2];
  double lifetime_s = 1800;
  std::string control_file, status_file;
  long mtu = 1500;
  long buffer_mib = 64;    // per direction: 1 Gbit/s x 100 ms one way needs 12.5 MiB
  bool offload = true;
  long seed = 1;
  Params params;
};

double parse_number(std::string_view opt, std::string_view text, double lo, double hi) {
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || !(v >= lo && v <= hi)) {
    char range[64];
    std::snprintf(range, sizeof range, "%g..%g", lo, hi);
    throw std::invalid_argument(std::string(opt) + ": '" + std::string(text) + "' is not a number in " + range);
  }
  return v;
}

// Sets one direction-dependent setting: "--NAME-ms" for both directions,
// "--NAME-ab-ms" / "--NAME-ba-ms" for one.
bool apply_dir_option(Params& p, std::string_view opt, std::string_view val) {
  struct Knob { const char* stem; const char* unit; double DirParams::*field; double hi; };
  static const Knob knobs[] = {
      {"--delay", "-ms", &DirParams::delay_ms, 60000},
      {"--loss", "-pct", &DirParams::loss_pct, 100},
      {"--rate", "-mbit", &DirParams::rate_mbit, 100000},
      {"--queue", "-kib", &DirParams::queue_kib, 1 << 20},
  };
  for (const auto& k : knobs) {
    for (int d = -1; d < 2; ++d) {
      std::string name = std::string(k.stem) + (d == 0 ? "-ab" : d == 1 ? "-ba" : "") + k.unit;
      if (opt != name) continue;
      double v = parse_number(opt, val, 0, k.hi);
      for (int i = 0; i < 2; ++i)
        if (d < 0 || d == i) p.dir[i].*k.field = v;
      return true;
    }
  }
  if (opt == "--blackhole") {
    if (val != "on" && val != "off") throw std::invalid_argument("--blackhole: '" + std::string(val) + "' is not on or off");
    p.blackhole = val == "on";
    p.blackhole_set = true;
    return true;
  }
  return false;
}

// Options as a token list; when `o` is null (a control file) only the link
// settings are allowed.
struct HelpWanted {};

void parse_tokens(const std::vector<std::string>& args, Params& p, Options* o) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& opt = args[i];
    if (opt == "-h" || opt == "--help") throw HelpWanted{};
    if (i + 1 >= args.size()) throw std::invalid_argument(opt + ": needs a value (see --help)");
    const std::string& val = args[++i];
    if (apply_dir_option(p, opt, val)) continue;
    if (!o) throw std::invalid_argument(opt + ": unknown, or not changeable at run time");
    if (opt == "--ns-a") o->ns[0] = val;
    else if (opt == "--ns-b") o->ns[1] = val;
    else if (opt == "--dev-a") o->dev[0] = val;
    else if (opt == "--dev-b") o->dev[1] = val;
    else if (opt == "--lifetime") o->lifetime_s = parse_number(opt, val, 1, 86400);
    else if (opt == "--control") o->control_file = val;
    else if (opt == "--status") o->status_file = val;
    else if (opt == "--mtu") o->mtu = long(parse_number(opt, val, 576, 9000));
    else if (opt == "--buffer-mib") o->buffer_mib = long(parse_number(opt, val, 1, 4096));
    else if (opt == "--offload") {
      if (val != "on" && val != "off") throw std::invalid_argument("--offload: '" + val + "' is not on or off");
      o->offload = val == "on";
    }
    else if (opt == "--seed") o->seed = long(parse_number(opt, val, 0, 1e9));
    else throw std::invalid_argument(opt + ": unknown option (see --help)");
  }
}

const char* kUsage =
    "usage: dvpn-delayline --ns-a NS --dev-a DEV --ns-b NS --dev-b DEV [options]\n"
    "  Creates TUN device DEV in each namespace (NS: a name under /run/netns or a path)\n"
    "  and forwards IP packets between them. Direction ab: into a's device, out of b's.\n"
    "  --delay-ms MS      one-way delay, each direction (RTT = 2 x MS); 0..60000\n"
    "  --loss-pct P       random loss, each direction; 0..100\n"
    "  --rate-mbit R      rate limit, each direction (0: none)\n"
    "  --queue-kib K      bytes the rate limiter queues before dropping (0: 50 ms at the rate, >= 64)\n"
    "  --delay-ab-ms, --delay-ba-ms, --loss-ab-pct, ..., --queue-ba-kib: one direction only\n"
    "  --blackhole on|off drop everything (also SIGUSR1 on, SIGUSR2 off)\n"
    "  --lifetime S       exit after S seconds whatever happens (default 1800; 1..86400)\n"
    "  --control FILE     options re-read on SIGHUP (link settings only, on top of the command line's)\n"
    "  --status FILE      settings and counters, rewritten every second, after every change and at exit\n"
    "  --mtu N            device MTU (default 1500)\n"
    "  --buffer-mib N     bytes in flight per direction before packets are dropped (default 64)\n"
    "  --offload on|off   GSO packets from the devices where there is no loss (default on)\n"
    "  --seed N           loss random seed (default 1)\n";

std::vector<std::string> read_control_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument("cannot read " + path + ": " + std::strerror(errno));
  std::vector<std::string> tokens;
  std::string line, tok;
  while (std::getline(in, line)) {
    line = line.substr(0, line.find('#'));
    std::istringstream words(line);
    while (words >> tok) tokens.push_back(tok);
  }
  return tokens;
}

// ---- TUN devices --------------------------------------------------------------------
// TUNSETIFF creates (or finds) the device in the network namespace of the
// calling thread, and the device stays there. So this thread enters the
// target namespace for the open and goes back to its own after: no device
// has to be made in one namespace and moved, and the fd keeps working from
// any namespace. The device is not persistent: it vanishes when we exit.
int open_tun(const std::string& ns, const std::string& dev, long mtu) {
  if (dev.empty() || dev.size() >= IFNAMSIZ) die("device name '" + dev + "' must be 1.." + std::to_string(IFNAMSIZ - 1) + " characters");
  std::string path = ns.find('/') == std::string::npos ? "/run/netns/" + ns : ns;
  int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (home < 0) die(errno_text("/proc/thread-self/ns/net"), 1);
  int target = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (target < 0) die(errno_text("namespace " + path));
  if (setns(target, CLONE_NEWNET) != 0) die(errno_text("setns " + path), 1);
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) die(errno_text("/dev/net/tun"), 1);
  ifreq ifr{};
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_VNET_HDR;
  std::strncpy(ifr.ifr_name, dev.c_str(), IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, &ifr) != 0) die(errno_text("TUNSETIFF " + dev + " in " + path), 1);
  int hdr = kVnetHdr;
  if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) != 0) die(errno_text("TUNSETVNETHDRSZ"), 1);
  // MTU and queue length need a socket of the device's namespace.
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) die(errno_text("socket"), 1);
  ifr.ifr_mtu = int(mtu);
  if (ioctl(s, SIOCSIFMTU, &ifr) != 0) die(errno_text("MTU of " + dev), 1);
  // The kernel queues packets for us here while we sleep between polls; the
  // default 500 overflows in a burst at 1 Gbit/s (a drop we did not decide).
  ifr.ifr_qlen = 5000;
  if (ioctl(s, SIOCSIFTXQLEN, &ifr) != 0) die(errno_text("txqueuelen of " + dev), 1);
  close(s);
  if (setns(home, CLONE_NEWNET) != 0) die(errno_text("setns back"), 1);
  close(home);
  close(target);
  return fd;
}

// ---- shared state ---------------------------------------------------------------------
struct Shared {
  std::mutex mu;
  Params params;                    // guarded by mu
  std::atomic<uint64_t> generation{0};
  std::atomic<bool> blackhole{false};
  std::atomic<bool> stop{false};
  int wake_fd = -1;                 // eventfd: wakes the workers to stop
};

struct Counters {
  std::atomic<uint64_t> in{0}, out{0}, bytes_out{0}, lost{0}, queue_drop{0}, buffer_drop{0},
      blackholed{0}, runt{0}, write_err{0};
};

// One direction: reads `in_fd`, delivers to `out_fd`.
class Direction {
 public:
  Direction(int index, int in_fd, int out_fd, const Options& o, Shared& shared)
      : index_(index), in_fd_(in_fd), out_fd_(out_fd), offload_(o.offload), shared_(shared),
        ring_(size_t(o.buffer_mib) << 20, kReadMax), rng_(uint64_t(o.seed) * 2 + uint64_t(index)) {}

  void run() {
    prctl(PR_SET_TIMERSLACK, 1000UL);  // 1 us: poll wake-ups near the due time
    pollfd fds[2] = {{in_fd_, POLLIN, 0}, {shared_.wake_fd, POLLIN, 0}};
    while (!shared_.stop.load(std::memory_order_relaxed)) {
      refresh_params();
      deliver(mono_ns());
      int got = read_batch();
      deliver(mono_ns());
      if (got == kBatch) continue;  // more may be waiting
      timespec ts{}, *tp = nullptr;
      if (!ring_.empty()) {
        int64_t wait = std::max<int64_t>(0, ring_.front().due_ns - mono_ns());
        ts.tv_sec = wait / 1'000'000'000;
        ts.tv_nsec = wait % 1'000'000'000;
        tp = &ts;
      }
      if (ppoll(fds, 2, tp, nullptr) < 0 && errno != EINTR) die(errno_text("ppoll"), 1);
    }
  }

  Counters counters;

 private:
  void refresh_params() {
    uint64_t g = shared_.generation.load(std::memory_order_acquire);
    if (g == seen_generation_) return;
    {
      std::lock_guard lock(shared_.mu);
      const DirParams& d = shared_.params.dir[index_];
      delay_ns_ = int64_t(d.delay_ms * 1e6);
      loss_pct_ = d.loss_pct;
      rate_bytes_per_ns_ = d.rate_mbit * 1e6 / 8 / 1e9;
      queue_bytes_ = d.queue_kib > 0 ? d.queue_kib * 1024 : std::max(65536.0, rate_bytes_per_ns_ * 50e6);
    }
    seen_generation_ = g;
    set_offload(offload_ && loss_pct_ == 0);
  }

  // With offloads on, our input device hands us GSO packets of up to 64 KiB
  // (TCP segments of MSS 1460 the far stack splits, or passes on whole like
  // a veth does): one read and one write per ~44 segments instead of each,
  // which is what lets a 2-core box pass well over 1 Gbit/s. Random loss
  // must hit segments, not a whole GSO train, so a lossy direction gets
  // MTU-sized packets only.
  void set_offload(bool on) {
    if (on == offload_on_) return;
    unsigned flags = on ? TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 : 0;
    if (ioctl(in_fd_, TUNSETOFFLOAD, flags) != 0) die(errno_text("TUNSETOFFLOAD"), 1);
    offload_on_ = on;
  }

  // Reads up to kBatch packets straight into the ring.
  int read_batch() {
    int got = 0;
    for (; got < kBatch; ++got) {
      uint8_t* buf = ring_.reserve();
      bool full = buf == nullptr;
      ssize_t n = read(in_fd_, full ? scratch_.get() : buf, kReadMax);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN) break;
        die(errno_text("read"), 1);
      }
      counters.in.fetch_add(1, std::memory_order_relaxed);
      if (full) {
        counters.buffer_drop.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      admit(size_t(n), mono_ns());
    }
    return got;
  }

  // Decides the packet just read into the ring: dropped, or committed with its due time.
  void admit(size_t n, int64_t now) {
    auto drop = [](std::atomic<uint64_t>& c) { c.fetch_add(1, std::memory_order_relaxed); };
    if (n < size_t(kVnetHdr)) return drop(counters.runt);
    if (shared_.blackhole.load(std::memory_order_relaxed)) return drop(counters.blackholed);
    if (loss_pct_ > 0 && std::uniform_real_distribution<double>(0, 100)(rng_) < loss_pct_)
      return drop(counters.lost);
    int64_t leave = now;
    double wire = double(n - size_t(kVnetHdr));
    if (rate_bytes_per_ns_ > 0) {
      // The limiter is a link sending one packet after another: a packet
      // starts when the link is free, and whatever waits ahead of it is the
      // queue (in bytes: the wait times the rate).
      int64_t start = std::max(now, link_free_ns_);
      if (double(start - now) * rate_bytes_per_ns_ + wire > queue_bytes_) return drop(counters.queue_drop);
      link_free_ns_ = start + int64_t(wire / rate_bytes_per_ns_);
      leave = link_free_ns_;
    }
    last_due_ns_ = std::max(leave + delay_ns_, last_due_ns_);
    ring_.commit(uint32_t(n), last_due_ns_);
  }

  void deliver(int64_t now) {
    while (!ring_.empty() && ring_.front().due_ns <= now) {
      PacketRing::Rec& r = ring_.front();
      if (shared_.blackhole.load(std::memory_order_relaxed)) {
        counters.blackholed.fetch_add(1, std::memory_order_relaxed);
      } else if (write(out_fd_, r.data(), r.len) < 0) {
        // EIO while the far device is down: the packet is lost, as on a dead link.
        counters.write_err.fetch_add(1, std::memory_order_relaxed);
      } else {
        counters.out.fetch_add(1, std::memory_order_relaxed);
        counters.bytes_out.fetch_add(r.len - size_t(kVnetHdr), std::memory_order_relaxed);
      }
      ring_.pop();
    }
  }

  const int index_, in_fd_, out_fd_;
  const bool offload_;
  bool offload_on_ = false;
  Shared& shared_;
  PacketRing ring_;
  std::unique_ptr<uint8_t[]> scratch_{new uint8_t[kReadMax]};  // where a packet that finds the ring full goes
  std::mt19937_64 rng_;
  uint64_t seen_generation_ = ~uint64_t(0);
  int64_t delay_ns_ = 0, link_free_ns_ = 0, last_due_ns_ = 0;
  double loss_pct_ = 0, rate_bytes_per_ns_ = 0, queue_bytes_ = 0;
};

// ---- status ------------------------------------------------------------------------
void write_status(const Options& o, Shared& sh, Direction* const dirs[2], uint64_t changes,
                  const std::string& control, bool exiting) {
  if (o.status_file.empty()) return;
  std::ostringstream s;
  s << "changes " << changes << "\ncontrol " << control << "\nblackhole " << (sh.blackhole ? "on" : "off")
    << "\nstate " << (exiting ? "exited" : "running") << "\n";
  {
    std::lock_guard lock(sh.mu);
    for (int i = 0; i < 2; ++i) {
      const DirParams& d = sh.params.dir[i];
      const char* n = i == 0 ? "ab" : "ba";
      s << n << ".delay_ms " << d.delay_ms << "\n" << n << ".loss_pct " << d.loss_pct << "\n"
        << n << ".rate_mbit " << d.rate_mbit << "\n" << n << ".queue_kib " << d.queue_kib << "\n";
    }
  }
  for (int i = 0; i < 2; ++i) {
    const Counters& c = dirs[i]->counters;
    const char* n = i == 0 ? "ab" : "ba";
    s << n << ".in " << c.in << "\n" << n << ".out " << c.out << "\n" << n << ".bytes_out " << c.bytes_out
      << "\n" << n << ".lost " << c.lost << "\n" << n << ".queue_drop " << c.queue_drop << "\n"
      << n << ".buffer_drop " << c.buffer_drop << "\n" << n << ".blackholed " << c.blackholed << "\n"
      << n << ".runt " << c.runt << "\n" << n << ".write_err " << c.write_err << "\n";
  }
  // Written aside and renamed: a reader never sees half a file.
  std::string tmp = o.status_file + ".tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    f << s.str();
    if (!f) {
      std::fprintf(stderr, "%s: cannot write %s\n", kProg, tmp.c_str());
      return;
    }
  }
  if (std::rename(tmp.c_str(), o.status_file.c_str()) != 0)
    std::fprintf(stderr, "%s: %s\n", kProg, errno_text("rename " + tmp).c_str());
}

void log_params(const Params& p) {
  for (int i = 0; i < 2; ++i) {
    const DirParams& d = p.dir[i];
    char rate[32] = "unlimited", queue[32] = "auto";
    if (d.rate_mbit > 0) std::snprintf(rate, sizeof rate, "%g Mbit/s", d.rate_mbit);
    if (d.queue_kib > 0) std::snprintf(queue, sizeof queue, "%g KiB", d.queue_kib);
    std::fprintf(stderr, "%s: %s: delay %g ms, loss %g%%, rate %s, queue %s\n", kProg, i == 0 ? "a->b" : "b->a",
                 d.delay_ms, d.loss_pct, rate, queue);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  try {
    parse_tokens(std::vector<std::string>(argv + 1, argv + argc), o.params, &o);
  } catch (const HelpWanted&) {
    std::fputs(kUsage, stdout);
    return 0;
  } catch (const std::exception& e) {
    die(e.what());
  }
  for (int i = 0; i < 2; ++i)
    if (o.ns[i].empty() || o.dev[i].empty()) die(std::string("--ns-") + "ab"[i] + " and --dev-" + "ab"[i] + " are required (see --help)");
  if (o.ns[0] == o.ns[1] && o.dev[0] == o.dev[1]) die("the two ends are the same device");
  const Params base = o.params;

  // Signals are taken by sigtimedwait in this thread only; the workers
  // inherit the blocked mask.
  sigset_t sigs;
  sigemptyset(&sigs);
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2}) sigaddset(&sigs, s);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  int fd_a = open_tun(o.ns[0], o.dev[0], o.mtu);
  int fd_b = open_tun(o.ns[1], o.dev[1], o.mtu);

  Shared sh;
  sh.params = base;
  sh.blackhole = base.blackhole;
  sh.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (sh.wake_fd < 0) die(errno_text("eventfd"), 1);
  auto ab = std::make_unique<Direction>(0, fd_a, fd_b, o, sh);
  auto ba = std::make_unique<Direction>(1, fd_b, fd_a, o, sh);
  Direction* const dirs[2] = {ab.get(), ba.get()};
  std::thread t_ab([&] { ab->run(); });
  std::thread t_ba([&] { ba->run(); });

  log_params(base);
  std::fprintf(stderr, "%s: %s/%s <-> %s/%s up, MTU %ld, lifetime %g s\n", kProg, o.ns[0].c_str(), o.dev[0].c_str(),
               o.ns[1].c_str(), o.dev[1].c_str(), o.mtu, o.lifetime_s);
  uint64_t changes = 0;
  std::string control = "none";
  write_status(o, sh, dirs, changes, control, false);

  const int64_t deadline = mono_ns() + int64_t(o.lifetime_s * 1e9);
  for (;;) {
    int64_t left = deadline - mono_ns();
    if (left <= 0) {
      std::fprintf(stderr, "%s: lifetime of %g s is over; exiting\n", kProg, o.lifetime_s);
      break;
    }
    // Wakes at least once a second to refresh the status file's counters.
    int64_t wait = std::min<int64_t>(left, 1'000'000'000);
    timespec ts{wait / 1'000'000'000, wait % 1'000'000'000};
    int sig = sigtimedwait(&sigs, nullptr, &ts);
    if (sig < 0) {  // EAGAIN (a second passed, or the deadline: checked above) or EINTR
      write_status(o, sh, dirs, changes, control, false);
      continue;
    }
    if (sig == SIGTERM || sig == SIGINT) {
      std::fprintf(stderr, "%s: signal %d; exiting\n", kProg, sig);
      break;
    }
    if (sig == SIGUSR1 || sig == SIGUSR2) {
      sh.blackhole = sig == SIGUSR1;
      std::fprintf(stderr, "%s: blackhole %s\n", kProg, sh.blackhole ? "on" : "off");
    } else if (sig == SIGHUP) {
      if (o.control_file.empty()) {
        control = "error: SIGHUP without --control";
      } else {
        try {
          Params p = base;
          parse_tokens(read_control_file(o.control_file), p, nullptr);
          if (p.blackhole_set) sh.blackhole = p.blackhole;
          {
            std::lock_guard lock(sh.mu);
            sh.params = p;
          }
          sh.generation.fetch_add(1, std::memory_order_release);
          control = "ok";
          log_params(p);
        } catch (const std::exception& e) {
          control = std::string("error: ") + e.what();
        }
      }
      if (control != "ok") std::fprintf(stderr, "%s: control %s: %s; settings unchanged\n", kProg, o.control_file.c_str(), control.c_str());
    }
    write_status(o, sh, dirs, ++changes, control, false);
  }

  sh.stop = true;
  uint64_t one = 1;
  if (write(sh.wake_fd, &one, sizeof one) < 0) die(errno_text("eventfd write"), 1);
  t_ab.join();
  t_ba.join();
  write_status(o, sh, dirs, changes, control, true);
  for (int i = 0; i < 2; ++i) {
    const Counters& c = dirs[i]->counters;
    std::fprintf(stderr, "%s: %s: in %lu out %lu lost %lu queue-drop %lu buffer-drop %lu blackholed %lu runt %lu write-err %lu\n",
                 kProg, i == 0 ? "a->b" : "b->a", c.in.load(), c.out.load(), c.lost.load(), c.queue_drop.load(),
                 c.buffer_drop.load(), c.blackholed.load(), c.runt.load(), c.write_err.load());
  }
  close(fd_a);
  close(fd_b);
  return 0;
}
