#!/usr/bin/env bash
# Runs before `npm test`: the integration tests start a real, throw-away InfluxDB 1.x
# (Debian's `influxd`). Install it when it is missing and we may (root on Debian); otherwise say how.
set -euo pipefail
if command -v influxd >/dev/null 2>&1 || [ -x "${FLEETLINE_TEST_INFLUXD:-/usr/bin/influxd}" ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-influxd: installing Debian's influxdb package for the integration tests" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq influxdb >/dev/null
  # The package may start its own service; the tests start their own throw-away servers.
  pkill -x influxd 2>/dev/null || true
  exit 0
fi
echo "ensure-influxd: influxd not found. Install InfluxDB 1.x first, e.g.: sudo apt-get install -y influxdb" >&2
echo "  (or set FLEETLINE_TEST_INFLUXD to an influxd binary)" >&2
exit 1
