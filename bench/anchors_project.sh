#!/usr/bin/env bash
# bench/anchors_project.sh — dvpnd in the "project" slot of the shared anchors
# harness (../shared/anchors/run.sh). run.sh starts the PROJECT_CMD in its
# gwA namespace with ANC_* variables; this writes a dvpnd config and hosts
# file for them and execs dvpnd. Mode: PROJECT_MODE=direct (default) or netcat.
#
#   PROJECT_CMD="$PWD/bench/anchors_project.sh" PROJECT_CIPHER=aes128-ctr/hmac-sha2-256 \
#   DVPND=$PWD/build-bench/daemon/dvpnd PROJECT_MODE=direct \
#   VARIANTS="direct sshL_ctr dvpn_mux project" RUNS=1 ../shared/anchors/run.sh
set -euo pipefail
: "${ANC_LISTEN_PORT:?run me from anchors/run.sh}" "${ANC_GW_HOST:?}" "${ANC_GW_USER:?}" "${ANC_SSH_KEY:?}"
: "${ANC_KNOWN_HOSTS:?}" "${ANC_REMOTE_SUBNET:?}"
HERE=$(cd "$(dirname "$0")" && pwd)
DVPND=${DVPND:-$HERE/../build-bench/daemon/dvpnd}
MODE=${PROJECT_MODE:-direct}
port=${ANC_GW_PORT:-22}
dir=/tmp/dvb-anchors-$ANC_LISTEN_PORT
mkdir -p "$dir"
# both known_hosts forms (plain host, [host]:port) from the harness's file
awk -v p="$port" '{print; k=$1; $1=""; print "[" k "]:" p $0}' "$ANC_KNOWN_HOSTS" >"$dir/known_hosts"
net=${ANC_REMOTE_SUBNET%/*}
site_ip=${net%.*}.1
if [ "$MODE" = direct ]; then
  echo "$site_ip	anchors-site	#!$ANC_GW_USER@$ANC_GW_HOST:$port mode=direct" >"$dir/hosts"
else
  echo "$site_ip	anchors-site	#!$ANC_GW_USER@$ANC_GW_HOST:$port" >"$dir/hosts"
fi
cat >"$dir/dvpn.yaml" <<EOF
listen: ["0.0.0.0:$ANC_LISTEN_PORT"]
hosts: [$dir/hosts]
site_prefix: {ipv4: ${ANC_REMOTE_SUBNET#*/}}
vpn_networks: [$ANC_REMOTE_SUBNET]
local_subnets: [192.0.2.0/24]
ssh:
  user: $ANC_GW_USER
  identity: $ANC_SSH_KEY
  known_hosts: $dir/known_hosts
  command: "busybox nc {host} {port}"
  connect_timeout: 10s
  max_channels_per_session: ${DVPN_CHANNELS:-100}
limits: {max_connections: 30000}
log: {level: ${DVPN_LOG_LEVEL:-info}}
control_socket: $dir/control.sock
run_as: ""
EOF
exec "$DVPND" -c "$dir/dvpn.yaml" --foreground
