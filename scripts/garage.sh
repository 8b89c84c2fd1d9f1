#!/usr/bin/env bash
# Garage, the S3-compatible store the cluster tests run against. `ensure_garage` builds it once
# from crates.io (pinned, --locked) into ~/.cache/microcat-tools, outside the clone, so later
# runs reuse the binary; `start_garage` runs a throwaway single node on loopback with a fixed
# test key and bucket, `stop_garage` removes it. Source this file.

GARAGE_VERSION=2.5.0
TOOLS_DIR=${MICROCAT_TOOLS_DIR:-$HOME/.cache/microcat-tools}
GARAGE_BIN=$TOOLS_DIR/garage-$GARAGE_VERSION/bin/garage
# A fixed test key: Garage imports it, so tests and nodes know it before the server starts.
GARAGE_KEY_ID=GK31c2f218a2e44f485b94239e
GARAGE_SECRET=b892c0665f0ada8a4755dae98baa3b133590e11dae3bcc1f9d769d67f16c3835
GARAGE_BUCKET=microcat-test

ensure_garage() {
  [ -x "$GARAGE_BIN" ] && return 0
  echo "building Garage $GARAGE_VERSION once into $TOOLS_DIR (about 15 minutes on 2 cores)"
  CARGO_TARGET_DIR="$TOOLS_DIR/garage-build" cargo install garage --version "$GARAGE_VERSION" --locked \
    --no-default-features --features bundled-libs,lmdb --root "$TOOLS_DIR/garage-$GARAGE_VERSION" --quiet
  rm -rf "$TOOLS_DIR/garage-build"
}

# Writes one node's config: garage_config FILE SUFFIX REPLICATION SECRET; prints its RPC port.
garage_config() {
  local file=$1 suffix=$2 replication=$3 secret=$4 s3_port rpc_port admin_port
  s3_port=$(free_port); rpc_port=$(free_port); admin_port=$(free_port)
  cat > "$file" <<TOML
metadata_dir = "$GARAGE_DIR/meta$suffix"
data_dir = "$GARAGE_DIR/data$suffix"
db_engine = "lmdb"
replication_factor = $replication
rpc_bind_addr = "127.0.0.1:$rpc_port"
rpc_public_addr = "127.0.0.1:$rpc_port"
rpc_secret = "$secret"

[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:$s3_port"

[admin]
api_bind_addr = "127.0.0.1:$admin_port"
TOML
  echo "$rpc_port"
}

# The S3 endpoint a config file names.
garage_s3_endpoint() {
  echo "http://$(sed -n '/^\[s3_api\]/,/^\[/s/^api_bind_addr = "\(.*\)"/\1/p' "$1")"
}

garage_secret() {
  openssl rand -hex 32 2>/dev/null || head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'
}

# Waits until the node at CONFIG answers.
garage_wait() {
  for _ in $(seq 1 100); do "$GARAGE_BIN" -c "$1" status > /dev/null 2>&1 && return 0; sleep 0.1; done
  echo "garage: the node of $1 did not answer within 10 s" >&2
  return 1
}

# Imports the fixed test key and makes the bucket, through the node at CONFIG.
garage_key_and_bucket() {
  local garage="$GARAGE_BIN -c $1"
  $garage key import --yes -n microcat-test "$GARAGE_KEY_ID" "$GARAGE_SECRET" > /dev/null
  $garage bucket create "$GARAGE_BUCKET" > /dev/null
  $garage bucket allow --read --write --owner "$GARAGE_BUCKET" --key "$GARAGE_KEY_ID" > /dev/null
}

# Starts one node on free loopback ports; exports GARAGE_S3_ENDPOINT and the key variables.
start_garage() {
  ensure_garage
  GARAGE_DIR=$(mktemp -d /tmp/microcat-garage.XXXXXX)
  local config="$GARAGE_DIR/garage.toml" node
  garage_config "$config" "" 1 "$(garage_secret)" > /dev/null
  "$GARAGE_BIN" -c "$config" server > "$GARAGE_DIR/server.log" 2>&1 &
  GARAGE_PID=$!
  garage_wait "$config"
  node=$("$GARAGE_BIN" -c "$config" node id -q | cut -d@ -f1)
  "$GARAGE_BIN" -c "$config" layout assign -z local -c 1G "$node" > /dev/null
  "$GARAGE_BIN" -c "$config" layout apply --version 1 > /dev/null
  garage_key_and_bucket "$config"
  GARAGE_S3_ENDPOINT=$(garage_s3_endpoint "$config")
  export GARAGE_S3_ENDPOINT GARAGE_BUCKET GARAGE_KEY_ID GARAGE_SECRET
}

# Starts three nodes on loopback with replication factor 3 (one zone each), the layout applied,
# the test key and bucket made; exports GARAGE_S3_ENDPOINT (the first node's S3 API) and
# GARAGE_CLUSTER_CONFIGS/GARAGE_CLUSTER_PIDS (space-separated, node by node) so a soak run can
# kill a node and start it again from its config.
start_garage_cluster() {
  ensure_garage
  GARAGE_DIR=$(mktemp -d /tmp/microcat-garage.XXXXXX)
  local secret configs=() pids=() ids=() ports=() index
  secret=$(garage_secret)
  for index in 1 2 3; do
    local config="$GARAGE_DIR/garage-$index.toml"
    ports+=("$(garage_config "$config" "-$index" 3 "$secret")")
    "$GARAGE_BIN" -c "$config" server > "$GARAGE_DIR/server-$index.log" 2>&1 &
    pids+=($!); configs+=("$config")
  done
  local first="$GARAGE_BIN -c ${configs[0]}"
  for config in "${configs[@]}"; do
    garage_wait "$config"
    ids+=("$("$GARAGE_BIN" -c "$config" node id -q | cut -d@ -f1)")
  done
  for index in 1 2; do $first node connect "${ids[$index]}@127.0.0.1:${ports[$index]}" > /dev/null; done
  # The layout is applied once all three see each other.
  for _ in $(seq 1 100); do
    [ "$($first status 2>/dev/null | grep -c '127.0.0.1:')" -ge 3 ] && break
    sleep 0.1
  done
  for index in 0 1 2; do $first layout assign -z "zone-$index" -c 1G "${ids[$index]}" > /dev/null; done
  $first layout apply --version 1 > /dev/null
  garage_key_and_bucket "${configs[0]}"
  GARAGE_S3_ENDPOINT=$(garage_s3_endpoint "${configs[0]}")
  GARAGE_PID="${pids[*]}" GARAGE_CLUSTER_PIDS="${pids[*]}" GARAGE_CLUSTER_CONFIGS="${configs[*]}"
  export GARAGE_S3_ENDPOINT GARAGE_BUCKET GARAGE_KEY_ID GARAGE_SECRET GARAGE_BIN GARAGE_CLUSTER_PIDS GARAGE_CLUSTER_CONFIGS
}

stop_garage() {
  if [ -n "${GARAGE_PID:-}" ]; then
    kill $GARAGE_PID 2>/dev/null || true
    wait $GARAGE_PID 2>/dev/null || true
  fi
  if [ -n "${GARAGE_DIR:-}" ]; then
    # A node the soak run started again is not among the PIDs: find every server on this folder.
    pkill -KILL -f -- "-c $GARAGE_DIR/" 2>/dev/null || true
    rm -rf "$GARAGE_DIR"
  fi
  GARAGE_PID= GARAGE_DIR=
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
