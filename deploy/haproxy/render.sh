#!/bin/sh
# Renders haproxy.cfg.template: one config for the native stack (scripts/stack.sh) and Docker
# Compose (the haproxy service). POSIX sh: it also runs inside the haproxy image.
#   render.sh TEMPLATE OUTPUT PUBLIC_BIND STATUS_BIND SERVER_LINE...
set -eu
template="$1" output="$2" public_bind="$3" status_bind="$4"
shift 4
servers=""
for line in "$@"; do servers="$servers  $line
"; done
tmp="$output.tmp.$$"
while IFS= read -r row || [ -n "$row" ]; do
  case "$row" in
    @@SERVERS@@) printf '%s' "$servers" ;;
    *) printf '%s\n' "$row" | sed -e "s|@@PUBLIC_BIND@@|$public_bind|g" -e "s|@@STATUS_BIND@@|$status_bind|g" ;;
  esac
done < "$template" > "$tmp"
mv "$tmp" "$output"
