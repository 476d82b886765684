#!/usr/bin/env bash
# What `npm install blazeface-toolkit` puts on a consumer's disk: installs the packed tarball into fresh
# temporary projects and prints `du -sh node_modules` for
#   default           a plain `npm install <tarball>`, no flags (onnxruntime-node stays only if its
#                     postinstall succeeds: it fetches CUDA files from NuGet on linux/x64)
#   default+ort-skip  the same with ONNXRUNTIME_NODE_INSTALL=skip (keeps onnxruntime-node without NuGet)
#   full              with every optional runtime peer as well (ONNXRUNTIME_NODE_INSTALL=skip)
# Usage: scripts/measure-install.sh [tarball]   (default: `npm pack` of this repository)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)

# `npm run` exports this repository's settings (npm_config_*, npm_package_*); a consumer has none of them.
for v in $(env | grep -o '^npm_[A-Za-z0-9_]*' || true); do
  case $v in npm_config_cache | npm_config_registry | npm_config_userconfig) ;; *) unset "$v" ;; esac
done
unset INIT_CWD ONNXRUNTIME_NODE_INSTALL NODE_OPTIONS

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tarball=${1:-}
if [ -z "$tarball" ]; then
  (cd "$repo" && npm pack --pack-destination "$work" --silent >/dev/null)
  tarball=$(ls "$work"/*.tgz)
fi
tarball=$(realpath "$tarball")
# The optional runtime peers, name@range, from the tarball's own package.json.
peers=$(tar -xzOf "$tarball" package/package.json | node -e '
  const p = JSON.parse(require("fs").readFileSync(0, "utf8"));
  console.log(Object.entries(p.peerDependencies ?? {}).map(([n, r]) => `${n}@${r}`).join(" "));')

measure() {
  local label=$1 flag=$2 manifest=$3
  shift 3
  local dir="$work/$label"
  mkdir -p "$dir"
  echo "$manifest" >"$dir/package.json"
  local status=ok
  (cd "$dir" && env $flag npm install "$tarball" "$@" --prefer-offline --no-audit --no-fund >install.log 2>&1) || status="FAILED (see below)"
  local size=-
  [ -d "$dir/node_modules" ] && size=$(du -sh "$dir/node_modules" | cut -f1)
  local ort=no
  [ -d "$dir/node_modules/onnxruntime-node" ] && ort=yes
  printf '%-18s %-8s install %-20s onnxruntime-node: %s\n' "$label" "$size" "$status" "$ort"
  if [ "$status" != ok ]; then tail -n 8 "$dir/install.log" | sed 's/^/    /'; fi
  if [ -d "$dir/node_modules" ]; then
    (cd "$dir/node_modules" && du -s -- * @*/* 2>/dev/null | sort -rn | head -n 4 | awk '{ printf "    %6.1f MB  %s\n", $1 / 1024, $2 }')
  fi
}

echo "tarball: $tarball"
echo "node $(node --version), npm $(npm --version)"
plain='{ "name": "measure", "private": true }'
# @tensorflow/tfjs-tflite pins its tfjs-core peer to 4.9.0 but works with 4.22 (parity-tested); a consumer
# installing it next to tfjs-core 4.22 needs this override, as the README says.
override='{ "name": "measure", "private": true, "overrides": { "@tensorflow/tfjs-tflite": { "@tensorflow/tfjs-core": "^4.22.0" } } }'
measure default "" "$plain"
measure default+ort-skip ONNXRUNTIME_NODE_INSTALL=skip "$plain"
# shellcheck disable=SC2086
measure full ONNXRUNTIME_NODE_INSTALL=skip "$override" $peers
