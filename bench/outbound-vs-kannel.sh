#!/usr/bin/env bash
# Outbound over SMPP, Parley and Kannel side by side against the same SMSC simulator, in one run.
#
#   bench/outbound-vs-kannel.sh [MESSAGES]        (default 20000; run as root: it installs Kannel)
#
# Both send MESSAGES messages through one transceiver bind with 64 submits in flight to
# crates/parley-carriers/tests/peers/smsc (node-smpp), which answers every submit_sm and sends a
# delivery receipt for each. The simulator counts what it received, so both are timed by the same
# clock at the same place:
# - Parley: the messages are committed to its durable outbox at once; timed until every one is marked
#   sent (SMSC acknowledged) and delivered (receipt recorded), both durably (SQLite, synchronous=FULL).
# - Kannel 1.4.5: the messages are posted to smsbox's sendsms with a DLR mask; timed until the SMSC has
#   every submit_sm and Kannel has acknowledged every receipt. Kannel keeps its queue and DLRs in memory.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-20000}"
WINDOW=64
SMSC_PORT=2875
CONTROL_PORT=2876
work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

if ! command -v bearerbox >/dev/null 2>&1 && [ ! -x /usr/sbin/bearerbox ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kannel apache2-utils >/dev/null
fi
command -v ab >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq apache2-utils >/dev/null
bash .ci/peers.sh >/dev/null
cargo build -q --release -p parley

now_ms() { date +%s%3N; }
stats() { curl -s "http://127.0.0.1:$CONTROL_PORT/stats"; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

node crates/parley-carriers/tests/peers/smsc/smsc.js --port "$SMSC_PORT" --control-port "$CONTROL_PORT" \
  --system-id parley --password secret </dev/null >"$work/smsc.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do grep -q ready "$work/smsc.log" && break; sleep 0.1; done
curl -s -X POST "http://127.0.0.1:$CONTROL_PORT/config" -d '{"keep_records": false}' >/dev/null

echo "== Parley (durable outbox, SQLite synchronous=FULL) =="
RUST_LOG=warn target/release/parley bench outbound --smsc "127.0.0.1:$SMSC_PORT" -n "$N" --window "$WINDOW"

echo
echo "== Kannel 1.4.5 (bearerbox + smsbox, sendsms over HTTP with dlr-mask=3) =="
curl -s -X POST "http://127.0.0.1:$CONTROL_PORT/reset" >/dev/null
cat >"$work/kannel.conf" <<CONF
group = core
admin-port = 13900
admin-password = bar
status-password = bar
admin-allow-ip = "127.0.0.1"
smsbox-port = 13901
box-allow-ip = "127.0.0.1"
log-level = 2
log-file = "$work/bearerbox.log"
dlr-storage = internal

group = smsc
smsc = smpp
smsc-id = sim
host = 127.0.0.1
port = $SMSC_PORT
transceiver-mode = true
smsc-username = parley
smsc-password = secret
system-type = "VMA"
max-pending-submits = $WINDOW
enquire-link-interval = 30
reconnect-delay = 1

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = 13901
sendsms-port = 13913
log-file = "$work/smsbox.log"
log-level = 2

group = sendsms-user
username = bench
password = bench
max-messages = 10
concatenation = true
CONF
/usr/sbin/bearerbox "$work/kannel.conf" >/dev/null 2>&1 &
pids+=($!)
bound=""
for _ in $(seq 1 200); do
  if curl -s "http://127.0.0.1:13900/status.txt?password=bar" 2>/dev/null | grep -q "online"; then bound=1; break; fi
  sleep 0.1
done
if [ -z "$bound" ]; then echo "Kannel did not bind; its log:"; tail -20 "$work/bearerbox.log"; exit 1; fi
# smsbox gives up at once if bearerbox is not listening yet, so it starts second.
/usr/sbin/smsbox "$work/kannel.conf" >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 1 200); do
  curl -s -o /dev/null "http://127.0.0.1:13913/cgi-bin/sendsms" && break
  sleep 0.1
done
url="http://127.0.0.1:13913/cgi-bin/sendsms?username=bench&password=bench&from=15550008000&to=14155550100&text=Your+order+has+shipped.&dlr-mask=3"
start=$(now_ms)
ab -q -k -c 20 -n "$N" "$url" >"$work/ab.txt" 2>&1 || { echo "ab failed:"; tail -5 "$work/ab.txt"; tail -5 "$work/smsbox.log"; exit 1; }
accepted=$(now_ms)
while [ "$(stats | field submits)" -lt "$N" ]; do sleep 0.02; done
submitted=$(now_ms)
while [ "$(stats | field receipts_acked)" -lt "$N" ]; do sleep 0.02; done
receipted=$(now_ms)
awk -v n="$N" -v a="$((accepted - start))" -v s="$((submitted - start))" -v r="$((receipted - start))" 'BEGIN {
  printf "http accepted %d in %.2f s: %.0f msgs/s\n", n, a / 1000, n / (a / 1000)
  printf "submitted    all at the SMSC after %.2f s: %.0f msgs/s\n", s / 1000, n / (s / 1000)
  printf "delivered    every receipt acknowledged after %.2f s: %.0f msgs/s\n", r / 1000, n / (r / 1000)
}'
grep -E "Failed requests|Non-2xx" "$work/ab.txt" || true
