#!/usr/bin/env bash
# Sesame's benchmarks, one command each (docs/PERFORMANCE.md explains them).
#
#   bench/run.sh accept [MODE...]   accept rate: the durable ceiling, then Sesame
#                                   in each MODE (v2 v1 raw smtp; default all)
#   bench/run.sh e2e [N]            accepted → DKIM-signed → delivered to a sink,
#                                   N messages (default 100000)
#   bench/run.sh memory [N]         RSS with N messages queued (default 100000),
#                                   then start-up time with them queued
#   bench/run.sh all                the three in turn
#
# Settings (environment): DURATION=15s WARMUP=3s CONC=64 SIZE=1000 (text body
# bytes), CEILING_MODES="v2" (modes also run against the ceiling), SIM=0
# (1: accept benchmarks send to success@simulator.amazonses.com, which Sesame
# "delivers" in-process, signing each message, instead of to a recipient
# whose delivery is parked on a stalling relay),
# SINK_TLS=0 (1: the e2e sink offers STARTTLS), PERF=0 (1: perf-record Sesame
# during each accept mode and the e2e run), KEEP=0 (1: keep the work directory), WORK=dir,
# SESAME_BIN (a sesame binary to use instead of building ./cmd/sesame),
# RESULTS=file (a copy of the JSON lines).
#
# Everything runs on 127.0.0.1 with a temporary data directory; every
# process this script starts is stopped by its pid at exit.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-15s}
WARMUP=${WARMUP:-3s}
CONC=${CONC:-64}
SIZE=${SIZE:-1000}
CEILING_MODES=${CEILING_MODES-v2}
SIM=${SIM:-0}
SINK_TLS=${SINK_TLS:-0}
PERF=${PERF:-0}
KEEP=${KEEP:-0}

ACCOUNT=123456789012
DOMAIN=bench.sesame.test
HOSTNAME_=sesame.bench.test
ZONE=dkim.$HOSTNAME_
export AWS_ACCESS_KEY_ID=AKIABENCHMARK0000001
export AWS_SECRET_ACCESS_KEY=benchmarkSecretKey0000000000000000000000
export AWS_REGION=us-east-1

work=${WORK:-$(mktemp -d -t sesame-bench.XXXXXX)}
mkdir -p "$work"
bin=$work/bin
pids=()

cleanup() {
  local p
  for p in "${pids[@]}"; do
    kill "$p" 2>/dev/null || true
  done
  for p in "${pids[@]}"; do
    wait "$p" 2>/dev/null || true
  done
  if [ "$KEEP" = 1 ]; then
    echo "bench: work directory kept: $work" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

log() { echo "bench: $*" >&2; }

build() {
  log "building into $bin"
  go build -o "$bin/" ./bench/cmd/loadgen ./bench/cmd/ceiling ./bench/cmd/sink ./bench/cmd/dns ./bench/cmd/setup
  if [ -n "${SESAME_BIN:-}" ]; then
    cp "$SESAME_BIN" "$bin/sesame"
  else
    go build -o "$bin/" ./cmd/sesame
  fi
}

base=$((20000 + RANDOM % 20000))
port() { echo $((base + $1)); }
HTTP_PORT=$(port 0) SMTP_PORT=$(port 1) ZONE_PORT=$(port 2) DNS_PORT=$(port 3) SINK_PORT=$(port 4) CEIL_PORT=$(port 5)

# start NAME CMD...: runs CMD in the background, logging to $work/NAME.log.
start() {
  local name=$1
  shift
  "$@" >"$work/$name.out" 2>"$work/$name.log" &
  pids+=($!)
  last_pid=$!
}

# stop PID: stops one process this script started.
stop() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

wait_http() {
  local i
  for i in $(seq 500); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.01
  done
  log "no answer at $1"
  return 1
}

# wait_log FILE PATTERN: waits for a started process to log that it is ready
# (probing the sink's port would count as a connection).
wait_log() {
  local i
  for i in $(seq 300); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.01
  done
  log "$1: never logged '$2'"
  return 1
}

status_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }

# start_stack DATA RELAY_MODE: the bench DNS, a sink (stall or accept) as
# Sesame's relay, and Sesame itself on DATA. Sets sesame_pid, sink_pid.
start_stack() {
  local data=$1 mode=$2
  start dns "$bin/dns" -addr "127.0.0.1:$DNS_PORT" -domains "$DOMAIN" -zone "$ZONE" -forward "127.0.0.1:$ZONE_PORT"
  dns_pid=$last_pid
  case $mode in
  stall) start sink "$bin/sink" -addr "127.0.0.1:$SINK_PORT" -stall ;;
  accept)
    local tls=()
    [ "$SINK_TLS" = 1 ] && tls=(-tls)
    start sink "$bin/sink" -addr "127.0.0.1:$SINK_PORT" "${tls[@]}" -n "$E2E_N" -timeout 20m \
      -verify-every 1000 -dns "127.0.0.1:$DNS_PORT" -json
    ;;
  esac
  sink_pid=$last_pid
  wait_log "$work/sink.log" "^sink: .* on "
  start_sesame "$data"
}

# start_sesame DATA: sets sesame_pid and startup_ms (exec to /health).
start_sesame() {
  local data=$1 t0 t1
  t0=$(date +%s%N)
  start sesame env SESAME_HTTP_ADDR="127.0.0.1:$HTTP_PORT" SESAME_SMTP_ADDR="127.0.0.1:$SMTP_PORT" \
    SESAME_SMTPS_ADDR=off SESAME_MX_ADDR=off SESAME_DNS_ADDR="127.0.0.1:$ZONE_PORT" \
    SESAME_DNS_SERVER="127.0.0.1:$DNS_PORT" SESAME_HOSTNAME=$HOSTNAME_ SESAME_DKIM_ZONE=$ZONE \
    SESAME_RELAY="127.0.0.1:$SINK_PORT" \
    SESAME_ROOT_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID SESAME_ROOT_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY \
    "$bin/sesame" serve --data "$data"
  sesame_pid=$last_pid
  wait_http "http://127.0.0.1:$HTTP_PORT/health"
  t1=$(date +%s%N)
  startup_ms=$(((t1 - t0) / 1000000))
}

# prepare DATA: production access with high limits, the sending domain
# verified through DNS with Easy DKIM.
prepare() {
  "$bin/sesame" admin approve-production --data "$1" --account $ACCOUNT --max-24h 100000000 --max-rate 1000000 >/dev/null
  "$bin/setup" -endpoint "http://127.0.0.1:$HTTP_PORT" -domain $DOMAIN -wait 60s >&2
}

stop_stack() {
  stop "$sesame_pid"
  stop "$sink_pid"
  stop "$dns_pid"
}

loadgen() { "$bin/loadgen" -c "$CONC" -size "$SIZE" -from "sender@$DOMAIN" "$@"; }

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# timed PID LOADGEN-ARGS...: runs the load generator and adds the server's CPU
# use over the run (in cores) to its JSON line, which goes to the results.
timed() {
  local pid=$1 c0 t0 c1 t1 out cores cpu_s
  shift
  c0=$(cpu_ticks "$pid")
  t0=$(date +%s%N)
  out=$(loadgen "$@" -json) || true
  c1=$(cpu_ticks "$pid")
  t1=$(date +%s%N)
  cores=$(awk -v c=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v ns=$((t1 - t0)) 'BEGIN { printf "%.3f", c / hz / (ns / 1e9) }')
  cpu_s=$(awk -v c=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.3f", c / hz }')
  jq -c --argjson cores "$cores" --argjson cpu "$cpu_s" \
    '. + {server_cores: $cores, server_cpu_us_per_msg: (if .ok + .warmup_ok > 0 then ($cpu * 1e6 / (.ok + .warmup_ok) | floor) else null end)}' <<<"$out" |
    tee -a "$results" >&2
}

results=$work/results.jsonl
: >"$results"

# --- accept ---------------------------------------------------------------

run_accept() {
  local modes=("$@") m data accept_to=rcpt@sink.$DOMAIN label_suffix=
  [ ${#modes[@]} -eq 0 ] && modes=(v2 v1 raw smtp)
  if [ "$SIM" = 1 ]; then
    accept_to=success@simulator.amazonses.com label_suffix=" sim"
  fi
  for m in $CEILING_MODES; do
    log "ceiling, $m, $CONC clients, $WARMUP warm-up + $DURATION"
    start ceiling "$bin/ceiling" -addr "127.0.0.1:$CEIL_PORT" -file "$work/ceiling.log"
    local cpid=$last_pid
    wait_http "http://127.0.0.1:$CEIL_PORT/health"
    timed "$cpid" -mode "$m" -label "ceiling $m" -target "http://127.0.0.1:$CEIL_PORT" -to "$accept_to" -warmup "$WARMUP" -d "$DURATION"
    stop "$cpid"
    cat "$work/ceiling.out" >&2
    rm -f "$work/ceiling.log"
  done
  for m in "${modes[@]}"; do
    data=$work/data-accept-$m
    log "Sesame, $m, $CONC clients, $WARMUP warm-up + $DURATION, to $accept_to (other mail parked on a stalling relay)"
    start_stack "$data" stall
    prepare "$data"
    local target=http://127.0.0.1:$HTTP_PORT extra=()
    if [ "$m" = smtp ]; then
      target=127.0.0.1:$SMTP_PORT
      if [ -f "$data/tls/cert.pem" ]; then extra=(-cafile "$data/tls/cert.pem"); else extra=(-insecure); fi
    fi
    local perf_pid=
    if [ "$PERF" = 1 ]; then
      # perf starts after the warm-up and stops with the load.
      (sleep "${WARMUP%s}" && exec perf record -F 499 -g -p "$sesame_pid" -o "$work/perf-$m.data") >/dev/null 2>&1 &
      perf_pid=$!
      pids+=("$perf_pid")
    fi
    timed "$sesame_pid" -mode "$m" -label "sesame $m$label_suffix" -target "$target" -to "$accept_to" "${extra[@]}" -warmup "$WARMUP" -d "$DURATION"
    if [ -n "$perf_pid" ]; then
      kill -INT "$perf_pid" 2>/dev/null || true
      wait "$perf_pid" 2>/dev/null || true
      perf report -i "$work/perf-$m.data" --no-children --sort symbol --stdio 2>/dev/null | grep -v '^#' | grep '%' | head -40 >"$work/perf-$m.txt" || true
      log "perf profile: $work/perf-$m.txt (KEEP=1 keeps it)"
      head -25 "$work/perf-$m.txt" >&2
    fi
    echo "{\"label\":\"sesame $m$label_suffix rss\",\"rss_kb\":$(status_kb "$sesame_pid" VmRSS),\"hwm_kb\":$(status_kb "$sesame_pid" VmHWM)}" >>"$results"
    stop_stack
  done
}

# --- end to end -----------------------------------------------------------

run_e2e() {
  E2E_N=${1:-100000}
  local data=$work/data-e2e
  log "end to end: $E2E_N messages, v2 SendEmail, $CONC clients → Sesame → DKIM RSA-2048 → relay sink (STARTTLS: $SINK_TLS)"
  start_stack "$data" accept
  prepare "$data"
  local hwm=0 rss done_=0
  # Sample Sesame's memory while the run lasts.
  (
    while kill -0 "$sesame_pid" 2>/dev/null; do
      status_kb "$sesame_pid" VmRSS
      sleep 0.5
    done
  ) >"$work/e2e-rss.txt" 2>/dev/null &
  local sampler=$!
  pids+=("$sampler")
  local c0 t0 perf_pid=
  c0=$(cpu_ticks "$sesame_pid")
  t0=$(date +%s%N)
  if [ "$PERF" = 1 ]; then
    perf record -F 199 -g -p "$sesame_pid" -o "$work/perf-e2e.data" >/dev/null 2>&1 &
    perf_pid=$!
    pids+=("$perf_pid")
  fi
  timed "$sesame_pid" -mode v2 -label "e2e accept" -target "http://127.0.0.1:$HTTP_PORT" -to "rcpt@sink.$DOMAIN" -n "$E2E_N"
  wait "$sink_pid" || { log "the sink did not see $E2E_N messages"; cat "$work/sink.out" >&2; }
  local sink_json
  sink_json=$(cat "$work/sink.out")
  echo "$sink_json" >&2
  local cpu_s wall_s
  cpu_s=$(awk -v c=$(($(cpu_ticks "$sesame_pid") - c0)) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", c / hz }')
  wall_s=$(awk -v ns=$(($(date +%s%N) - t0)) 'BEGIN { printf "%.2f", ns / 1e9 }')
  if [ -n "$perf_pid" ]; then
    kill -INT "$perf_pid" 2>/dev/null || true
    wait "$perf_pid" 2>/dev/null || true
    perf report -i "$work/perf-e2e.data" --no-children --sort symbol --stdio 2>/dev/null | grep -v '^#' | grep '%' | head -60 >"$work/perf-e2e.txt" || true
    log "perf profile: $work/perf-e2e.txt (KEEP=1 keeps it)"
  fi
  hwm=$(status_kb "$sesame_pid" VmHWM)
  rss=$(sort -n "$work/e2e-rss.txt" | tail -1)
  local start_ms
  start_ms=$(tail -1 "$results" | jq .start_unix_ms)
  jq -c --argjson start "$start_ms" --argjson n "$E2E_N" --argjson hwm "$hwm" --argjson rss "${rss:-0}" \
    --argjson cpu "$cpu_s" --argjson wall "$wall_s" \
    '{label: "e2e delivered", messages, signed, verified, verify_failed, key_bits, conns,
      e2e_rate: (if .last_unix_ms > 0 then .messages / ((.last_unix_ms - $start) / 1000) else 0 end),
      sink_rate: .rate, elapsed_s: ((.last_unix_ms - $start) / 1000), peak_rss_kb: $rss, hwm_kb: $hwm,
      server_cores: ($cpu / $wall), server_cpu_us_per_msg: (if .messages > 0 then ($cpu * 1e6 / .messages | floor) else null end),
      sink_cpu_us_per_msg: (if .messages > 0 then (.cpu_s * 1e6 / .messages | floor) else null end)}' <<<"$sink_json" | tee -a "$results" >&2
  stop "$sampler"
  stop_stack
}

# --- memory and start-up --------------------------------------------------

run_memory() {
  local n=${1:-100000} data=$work/data-memory
  log "memory: $n messages queued (delivery parked), then a restart with them queued"
  start_stack "$data" stall
  prepare "$data"
  local before
  before=$(status_kb "$sesame_pid" VmRSS)
  timed "$sesame_pid" -mode v2 -label "memory fill" -target "http://127.0.0.1:$HTTP_PORT" -to "rcpt@sink.$DOMAIN" -n "$n"
  sleep 2
  local rss hwm
  rss=$(status_kb "$sesame_pid" VmRSS)
  hwm=$(status_kb "$sesame_pid" VmHWM)
  "$bin/sesame" admin queue --data "$data" >&2
  stop "$sesame_pid"
  # Start again on the same data, the messages still queued.
  start_sesame "$data"
  local log_startup
  log_startup=$(sed -n 's/.*sesame started.*startup=\([^ ]*\).*/\1/p' "$work/sesame.log" | tail -1)
  sleep 2
  local rss2
  rss2=$(status_kb "$sesame_pid" VmRSS)
  echo "{\"label\":\"memory\",\"queued\":$n,\"rss_idle_before_kb\":$before,\"rss_queued_kb\":$rss,\"hwm_kb\":$hwm,\"restart_ms\":$startup_ms,\"restart_logged\":\"$log_startup\",\"rss_after_restart_kb\":$rss2,\"db_bytes\":$(du -cb "$data"/sesame.db* | tail -1 | cut -f1)}" | tee -a "$results" >&2
  stop_stack
}

# --- report ---------------------------------------------------------------

table() {
  echo
  echo "== results ($(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load average $(cut -d' ' -f1-3 /proc/loadavg))"
  jq -r 'select(.rate != null and .mode != null) |
    [.label, .concurrency, .ok, .failed, (.rate|floor), .latency_ms.p50, .latency_ms.p90, .latency_ms.p99, .latency_ms.max, .server_cores, .server_cpu_us_per_msg, .client_cores] | @tsv' "$results" |
    awk 'BEGIN { printf "%-20s %4s %8s %6s %8s %8s %8s %8s %8s %7s %8s %7s\n", "run", "c", "ok", "failed", "rate/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "srv cpu", "µs/msg", "gen cpu" }
         { printf "%-20s %4s %8s %6s %8s %8s %8s %8s %8s %7.2f %8s %7.2f\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 }' FS='\t'
  jq -r 'select(.label == "e2e delivered") |
    "e2e: \(.messages) delivered (\(.signed) DKIM-signed, \(.verified) of a 1/1000 sample verified, \(.verify_failed) failed, RSA \(.key_bits)) in \(.elapsed_s) s over \(.conns) SMTP connections: \(.e2e_rate|floor)/s end to end; Sesame used \(.server_cores*100|floor/100) cores, \(.server_cpu_us_per_msg) µs CPU per message (the sink \(.sink_cpu_us_per_msg) µs); peak RSS \(.peak_rss_kb/1024|floor) MB"' "$results"
  jq -r 'select(.label == "memory") |
    "memory: \(.queued) queued: RSS \(.rss_queued_kb/1024|floor) MB (peak \(.hwm_kb/1024|floor) MB); restart with them queued: \(.restart_ms) ms to /health (logged \(.restart_logged)), RSS then \(.rss_after_restart_kb/1024|floor) MB"' "$results"
  jq -r 'select(.rss_kb != null) | "\(.label): \(.rss_kb/1024|floor) MB (peak \(.hwm_kb/1024|floor) MB)"' "$results"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
accept)
  build
  run_accept "$@"
  ;;
e2e)
  build
  run_e2e "$@"
  ;;
memory)
  build
  run_memory "$@"
  ;;
all)
  build
  run_accept
  run_e2e
  run_memory
  ;;
*)
  sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
  ;;
esac
table
cp "$results" "${RESULTS:-/dev/null}" 2>/dev/null || true
