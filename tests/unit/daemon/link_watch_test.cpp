// What each rtnetlink notification means to a roaming gateway: a new
// address, route or link may bring the network back (retry handshakes now);
// one gone may strand sessions (check their addresses).
#include "net/link_watch.hpp"

#include <linux/rtnetlink.h>

#include <doctest/doctest.h>

using dvpn::net::link_change_of;

TEST_CASE("additions and changes count as gained, removals as lost, other messages as nothing") {
  for (auto type : {RTM_NEWADDR, RTM_NEWROUTE, RTM_NEWLINK}) {
    CHECK(link_change_of(type).gained);
    CHECK_FALSE(link_change_of(type).lost);
  }
  for (auto type : {RTM_DELADDR, RTM_DELROUTE, RTM_DELLINK}) {
    CHECK(link_change_of(type).lost);
    CHECK_FALSE(link_change_of(type).gained);
  }
  for (int type : {int{RTM_NEWNEIGH}, int{RTM_DELNEIGH}, int{NLMSG_DONE}, int{NLMSG_ERROR}})
    CHECK_FALSE(link_change_of(static_cast<std::uint16_t>(type)).any());
}

TEST_CASE("a burst's changes add up") {
  dvpn::net::LinkChange burst;
  CHECK_FALSE(burst.any());
  burst |= link_change_of(RTM_DELADDR);
  burst |= link_change_of(RTM_NEWADDR);
  CHECK(burst.gained);
  CHECK(burst.lost);
}
