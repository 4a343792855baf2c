#pragma once
// Socket settings the relay depends on, each in one place.
#include <chrono>
#include <optional>

namespace dvpn::net {

// No Nagle: SSH packets and small replies leave at once (otherwise every
// close waits ~40 ms for a delayed ACK, doc/ssh-notes.md §6).
void set_no_delay(int fd);

// Dead-peer detection for the SSH connection: TCP keepalive probes after
// `idle` and TCP_USER_TIMEOUT so unacknowledged data fails the socket.
void set_dead_peer_detection(int fd, std::chrono::milliseconds idle);

// Keeps at most `bytes` of not-yet-sent data in the kernel's send queue, so a
// small control message (a channel open) does not queue behind megabytes of
// bulk data; throughput is unchanged as the queue refills as it drains.
void set_unsent_limit(int fd, int bytes);

// Acknowledges what has arrived at once instead of after the delayed-ACK
// timer. The kernel clears it again by itself, so it is re-armed after every
// read. Without it, each far-end close waits ~40 ms for our ACK (sshd's last
// packets are held by Nagle until then: bench/RESULTS.md).
void set_quick_ack(int fd);

// Makes the next close() send RST instead of FIN.
void set_reset_on_close(int fd);

// The kernel's smoothed round-trip time of a TCP socket (TCP_INFO
// tcpi_rtt); nullopt if the socket has none yet or is not TCP.
std::optional<std::chrono::microseconds> smoothed_rtt(int fd);

}  // namespace dvpn::net
