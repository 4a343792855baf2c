#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# 256 MiB each way at the same time over one connection, in both modes: the
# SHA-256 of each direction matches at both ends and the connection ends with
# FIN after the server's checksum line.
set -euo pipefail
# shellcheck source=topology.sh
. "$(dirname "$0")/topology.sh"
gateway_topology_up

SIZE=${GW_BULK_SIZE:-256MiB}
for mode in netcat direct; do
  dst=$(siteb_ip "$mode")
  step "$SIZE each way, mode $mode ($dst)"
  expect_rc 0 "bulk $SIZE each way via $mode" \
    client 280 bulk "$dst" "$BULK_PORT" --send "$SIZE" --recv "$SIZE" --timeout 260
done

# The transfers above are byte-exact through dvpnd's batched AES-CTR
# keystream (daemon/ssh/ctr_keystream.cpp; libssh2 1.10 picks aes128-ctr
# first); make sure it was the one in use.
dvpnd_log_has "aes-ctr: keystream batched" || fail "dvpnd did not report the batched aes-ctr keystream in use"
pass "the batched keystream carried the transfers"
