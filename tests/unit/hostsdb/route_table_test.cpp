// The longest-prefix route table.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <random>

#include "route_table.hpp"

using namespace dvpn::hostsdb;

// Counts allocations so a test can prove lookup() never allocates. Replacing
// the global operator new is per program; the other tests only pay a counter.
namespace {
std::atomic<long> allocations{0};

void* counted_malloc(std::size_t size) noexcept {
  allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size ? size : 1);
}
}  // namespace

// Every form that pairs with the plain operator delete is replaced, so a
// sanitizer's own operator new never meets this delete (alloc-dealloc-mismatch).
// noinline, as the deletes below: once GCC sees malloc() inside a new and
// free() inside a delete it pairs them wrongly and warns at -O3.
[[gnu::noinline]] void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return counted_malloc(size); }
[[gnu::noinline]] void* operator new(std::size_t size) {
  if (void* p = counted_malloc(size)) return p;
  throw std::bad_alloc();
}
// noinline: once inlined, GCC sees free() on operator new's result and warns.
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace {

Ip ip(std::string_view text) {
  auto parsed = Ip::parse(text);
  REQUIRE_MESSAGE(parsed, text);
  return *parsed;
}

// A site named `name` at `origin` routing `cidrs`.
Site make_site(std::string name, std::vector<std::string_view> cidrs, std::string origin = "") {
  Site s;
  s.name = std::move(name);
  s.origin = origin.empty() ? s.name + ".hosts:1" : std::move(origin);
  for (auto cidr : cidrs) {
    auto parsed = Prefix::parse(cidr);
    REQUIRE_MESSAGE(parsed.prefix, cidr);
    s.subnets.push_back(*parsed.prefix);
  }
  return s;
}

// The name of the site routing `dest`, or "-" for none.
std::string route(const RouteTable& table, std::string_view dest) {
  const Site* s = table.lookup(ip(dest));
  return s ? s->name : "-";
}

}  // namespace

TEST_CASE("an empty table routes nothing") {
  RouteTable empty;
  CHECK(empty.lookup(ip("10.0.0.1")) == nullptr);
  CHECK(empty.size() == 0);
  Diagnostics diags;
  CHECK(RouteTable::build({}, diags).lookup(ip("fd00::1")) == nullptr);
  CHECK(diags.empty());
}

TEST_CASE("the longest prefix wins and overlapping prefixes are all kept") {
  Diagnostics diags;
  std::vector<Site> sites;
  sites.push_back(make_site("wide", {"10.0.0.0/8"}));
  sites.push_back(make_site("mid", {"10.0.4.0/23"}));
  sites.push_back(make_site("narrow", {"10.0.4.0/24"}));
  sites.push_back(make_site("host", {"10.0.4.9/32"}));
  auto table = RouteTable::build(std::move(sites), diags);
  CHECK(diags.empty());
  CHECK(table.size() == 4);
  CHECK(route(table, "10.0.4.9") == "host");
  CHECK(route(table, "10.0.4.7") == "narrow");
  CHECK(route(table, "10.0.5.7") == "mid");
  CHECK(route(table, "10.9.9.9") == "wide");
  CHECK(route(table, "10.255.255.255") == "wide");
  CHECK(route(table, "11.0.0.0") == "-");
  CHECK(route(table, "9.255.255.255") == "-");
}

TEST_CASE("reading order does not matter for longest-prefix wins") {
  Diagnostics diags;
  std::vector<Site> sites;
  sites.push_back(make_site("narrow", {"10.0.4.0/24"}));
  sites.push_back(make_site("wide", {"10.0.0.0/8"}));
  auto table = RouteTable::build(std::move(sites), diags);
  CHECK(route(table, "10.0.4.1") == "narrow");
  CHECK(route(table, "10.0.5.1") == "wide");
}

TEST_CASE("a prefix claimed twice keeps the first site and warns naming both origins") {
  Diagnostics diags;
  std::vector<Site> sites;
  sites.push_back(make_site("first", {"10.5.0.0/24"}, "a.hosts:3"));
  sites.push_back(make_site("second", {"10.5.0.0/24", "10.5.1.0/24"}, "b.hosts:9"));
  sites.push_back(make_site("third", {"10.5.0.0/24"}, "b.hosts:12"));
  auto table = RouteTable::build(std::move(sites), diags);
  CHECK(route(table, "10.5.0.7") == "first");
  CHECK(route(table, "10.5.1.7") == "second");  // its other subnet still routes
  REQUIRE(diags.size() == 2);
  CHECK(diags[0].severity == Diagnostic::Severity::warning);
  CHECK(diags[0].to_string() ==
        "b.hosts:9: subnet 10.5.0.0/24 is already claimed by \"first\" at a.hosts:3, expected "
        "each subnet in one site only; ignored here");
  CHECK(diags[1].where == "b.hosts:12");
  CHECK(diags[1].message.find("a.hosts:3") != std::string::npos);
  // sites() shows what actually routes to each site.
  REQUIRE(table.size() == 3);
  CHECK(table.sites()[1].subnets.size() == 1);
  CHECK(table.sites()[1].subnets[0].to_string() == "10.5.1.0/24");
  CHECK(table.sites()[2].subnets.empty());
}

TEST_CASE("the same network with different lengths is not a duplicate") {
  Diagnostics diags;
  std::vector<Site> sites;
  sites.push_back(make_site("a", {"10.0.0.0/16"}));
  sites.push_back(make_site("b", {"10.0.0.0/24"}));
  auto table = RouteTable::build(std::move(sites), diags);
  CHECK(diags.empty());
  CHECK(route(table, "10.0.0.1") == "b");
  CHECK(route(table, "10.0.1.1") == "a");
}

TEST_CASE("IPv4 sites match IPv4-mapped IPv6 destinations") {
  Diagnostics diags;
  std::vector<Site> sites;
  sites.push_back(make_site("thursday", {"10.0.3.0/24"}));
  auto table = RouteTable::build(std::move(sites), diags);
  CHECK(route(table, "::ffff:10.0.3.7") == "thursday");
  CHECK(route(table, "::ffff:a00:307") == "thursday");
  CHECK(route(table, "::10.0.3.7") == "-");  // IPv4-compatible is not IPv4
  CHECK(route(table, "10.0.3.7") == "thursday");
}

TEST_CASE("IPv6 sites and IPv4 sites compete in one 128-bit space") {
  Diagnostics diags;
  std::vector<Site> sites;
  sites.push_back(make_site("saturday", {"fd00:5::/64"}));
  sites.push_back(make_site("v6-default", {"::/0"}));
  sites.push_back(make_site("v4", {"10.0.0.0/8"}));
  sites.push_back(make_site("v4-any", {"0.0.0.0/0"}));
  sites.push_back(make_site("host6", {"fd00:5::1/128"}));
  auto table = RouteTable::build(std::move(sites), diags);
  CHECK(diags.empty());
  CHECK(route(table, "fd00:5::abcd") == "saturday");
  CHECK(route(table, "fd00:5::1") == "host6");
  CHECK(route(table, "fd00:6::1") == "v6-default");
  CHECK(route(table, "10.1.2.3") == "v4");
  CHECK(route(table, "11.1.2.3") == "v4-any");    // /96 in 128 bits beats ::/0
  CHECK(route(table, "::ffff:11.1.2.3") == "v4-any");
  CHECK(route(table, "2001:db8::1") == "v6-default");
}

TEST_CASE("two spellings of one IPv4 prefix are one prefix") {
  Diagnostics diags;
  std::vector<Site> sites;
  sites.push_back(make_site("v4", {"0.0.0.0/0"}));
  sites.push_back(make_site("mapped", {"::ffff:0.0.0.0/96"}));
  auto table = RouteTable::build(std::move(sites), diags);
  REQUIRE(diags.size() == 1);
  CHECK(diags[0].message.find("0.0.0.0/0 is already claimed by \"v4\"") != std::string::npos);
  CHECK(route(table, "1.2.3.4") == "v4");
}

TEST_CASE("a destination differing only in bits the sites share does not match") {
  Diagnostics diags;
  std::vector<Site> sites;
  sites.push_back(make_site("one", {"10.0.1.0/24", "fd00:1::/64", "fd00:1::1:0:0:0/80"}));
  sites.push_back(make_site("two", {"10.0.2.0/24", "fd00:2::/64", "fd00:2::2:0:0:0/80"}));
  auto table = RouteTable::build(std::move(sites), diags);
  CHECK(route(table, "10.0.1.9") == "one");
  CHECK(route(table, "10.0.2.9") == "two");
  CHECK(route(table, "11.0.1.9") == "-");
  CHECK(route(table, "10.1.2.9") == "-");
  CHECK(route(table, "fd00:2::9") == "two");
  CHECK(route(table, "fd01:2::9") == "-");
  CHECK(route(table, "fd00:2:0:1::9") == "-");
  CHECK(route(table, "fd00:1:0:0:1::9") == "one");
  CHECK(route(table, "fd00:2:0:0:2::9") == "two");
  CHECK(route(table, "fd00:2:0:0:3::9") == "two");  // the /64 still covers it
}

TEST_CASE("lookup never allocates") {
  Diagnostics diags;
  std::vector<Site> sites;
  sites.push_back(make_site("a", {"10.0.0.0/8", "fd00::/16"}));
  sites.push_back(make_site("b", {"10.1.0.0/16"}));
  auto table = RouteTable::build(std::move(sites), diags);
  auto v4 = ip("10.1.2.3");
  auto v6 = ip("fd00::9");
  auto miss = ip("2001:db8::1");
  long before = allocations.load();
  const Site* hits[3] = {table.lookup(v4), table.lookup(v6), table.lookup(miss)};
  long after = allocations.load();
  CHECK(after == before);
  CHECK(hits[0]->name == "b");
  CHECK(hits[1]->name == "a");
  CHECK(hits[2] == nullptr);
}

TEST_CASE("a copied or moved table still points into its own sites") {
  Diagnostics diags;
  std::vector<Site> sites;
  sites.push_back(make_site("a", {"10.0.0.0/8"}));
  auto table = RouteTable::build(std::move(sites), diags);
  RouteTable copy = table;
  RouteTable moved = std::move(table);
  CHECK(copy.lookup(ip("10.0.0.1")) == &copy.sites()[0]);
  CHECK(moved.lookup(ip("10.0.0.1")) == &moved.sites()[0]);
}

TEST_CASE("lookup agrees with a brute-force longest-prefix scan") {
  std::mt19937 rng(4242);
  // Few distinct high bits so random prefixes overlap and collide often.
  auto random_ip = [&] {
    Ip a;
    if (rng() % 2) {
      a = Ip::from_v4(0x0a000000u | (rng() & 0x0003ffffu));
    } else {
      a.bytes[0] = 0xfd;
      a.bytes[1] = static_cast<std::uint8_t>(rng() % 3);
      for (int i = 2; i < 16; ++i) a.bytes[i] = static_cast<std::uint8_t>(rng() % 2 ? 0 : rng());
    }
    return a;
  };
  std::vector<Site> sites;
  for (int i = 0; i < 2000; ++i) {
    Ip a = random_ip();
    auto length = static_cast<std::uint8_t>(a.is_v4() ? 8 + rng() % 25 : rng() % 129);
    Site s;
    s.name = "s" + std::to_string(i);
    s.subnets.push_back(Prefix::containing(a, length));
    sites.push_back(s);
  }
  auto expected_sites = sites;
  Diagnostics diags;
  auto table = RouteTable::build(std::move(sites), diags);
  CHECK_FALSE(diags.empty());  // the generator does produce duplicates
  int hits = 0;
  for (int q = 0; q < 5000; ++q) {
    Ip dest = random_ip();
    const Site* best = nullptr;
    int best_length = -1;
    for (const auto& s : expected_sites) {  // first read wins among equals
      const auto& p = s.subnets[0];
      if (p.contains(dest) && p.length128() > best_length) best = &s, best_length = p.length128();
    }
    const Site* got = table.lookup(dest);
    REQUIRE_MESSAGE((got == nullptr) == (best == nullptr), dest.to_string());
    if (best) CHECK_MESSAGE(got->name == best->name, dest.to_string());
    hits += best != nullptr;
  }
  CHECK(hits > 1000);  // the queries exercise matches, not only misses
}
