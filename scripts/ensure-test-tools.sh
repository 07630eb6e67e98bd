#!/usr/bin/env bash
# Runs before `npm test`: the integration tests start a real, throw-away InfluxDB 1.x (Debian's
# `influxd`) and run the generated inventory through a real `ansible-playbook` (Debian's
# `ansible-core`). Install what is missing when we may (root on Debian); otherwise say how.
set -euo pipefail
missing=()
if ! command -v influxd >/dev/null 2>&1 && [ ! -x "${FLEETLINE_TEST_INFLUXD:-/usr/bin/influxd}" ]; then
  missing+=(influxdb)
fi
command -v ansible-playbook >/dev/null 2>&1 || missing+=(ansible-core)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-test-tools: installing Debian's ${missing[*]} for the integration tests" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The influxdb package may start its own service; the tests start their own throw-away servers.
  pkill -x influxd 2>/dev/null || true
  exit 0
fi
echo "ensure-test-tools: missing ${missing[*]}. Install them first, e.g.: sudo apt-get install -y ${missing[*]}" >&2
echo "  (FLEETLINE_TEST_INFLUXD may name an influxd binary elsewhere)" >&2
exit 1
