#!/bin/sh
# Install Debian's PostgreSQL server unless initdb and pg_ctl are already
# there. The tests start their own server from these binaries on 127.0.0.1.
set -eu

for bin_dir in /usr/lib/postgresql/*/bin; do
    if [ -x "$bin_dir/initdb" ] && [ -x "$bin_dir/pg_ctl" ]; then
        exit 0
    fi
done

echo "initdb and pg_ctl not found under /usr/lib/postgresql/*/bin; installing Debian's postgresql package"
if [ "$(id -u)" -ne 0 ]; then
    echo "installing postgresql needs root; run: apt-get update && apt-get install -y postgresql" >&2
    exit 1
fi
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql
