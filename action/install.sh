#!/usr/bin/env bash
# The install step of the infra-guard action (action.yml): download the
# release archive for this runner, verify it against the release's
# SHA256SUMS, unpack it into the tool cache and put it on PATH.
#
# Inputs (environment): IG_VERSION (v0.1.0; empty: IG_ACTION_REF, the tag
# the action is used at), IG_DOWNLOAD_URL (else INFRA_GUARD_DOWNLOAD_URL,
# else GitHub's release downloads), and the runner's RUNNER_OS,
# RUNNER_ARCH, RUNNER_TEMP, RUNNER_TOOL_CACHE, GITHUB_OUTPUT, GITHUB_PATH.
# Outputs: path (the directory holding infra-guard), version, cache-hit.
# Runs on bash 3.2 (macOS) too.
set -euo pipefail

fail() {
  echo "::error title=infra-guard action::$*"
  exit 1
}

version=${IG_VERSION:-${IG_ACTION_REF:-}}
case $version in
  [0-9]*) version=v$version ;;
esac
if ! [[ $version =~ ^v[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]+)?$ ]]; then
  fail "no release to run: the version input is '${IG_VERSION:-}' and the action's ref is '${IG_ACTION_REF:-}'; use the action at a release tag (infra-guard/infra-guard@v0.1.0) or set version: v0.1.0"
fi
base=${IG_DOWNLOAD_URL:-${INFRA_GUARD_DOWNLOAD_URL:-https://github.com/infra-guard/infra-guard/releases/download}}
base=${base%/}

case ${RUNNER_OS:-} in
  Linux) os=linux ;;
  macOS) os=darwin ;;
  Windows) os=windows ;;
  *) fail "unsupported RUNNER_OS '${RUNNER_OS:-}'" ;;
esac
case ${RUNNER_ARCH:-} in
  X64) arch=amd64 ;;
  ARM64) arch=arm64 ;;
  ARM) arch=armv7 ;;
  *) fail "unsupported RUNNER_ARCH '${RUNNER_ARCH:-}'" ;;
esac
ext=tar.gz exe=infra-guard
if [ "$os" = windows ]; then
  ext=zip exe=infra-guard.exe
fi
archive="infra-guard_${version#v}_${os}_${arch}.${ext}"

# The tool cache's layout, as actions/tool-cache keeps it: TOOL/VERSION/ARCH
# and a marker ARCH.complete written once the directory is whole.
cache_arch=$(echo "$RUNNER_ARCH" | tr '[:upper:]' '[:lower:]')
cache_root="${RUNNER_TOOL_CACHE:?}/infra-guard/${version#v}"
dir="$cache_root/$cache_arch"

sha256() {
  if command -v sha256sum >/dev/null; then
    sha256sum "$1" | cut -d' ' -f1
  else
    shasum -a 256 "$1" | cut -d' ' -f1
  fi
}

if [ -f "$cache_root/$cache_arch.complete" ] && [ -x "$dir/$exe" ]; then
  echo "infra-guard $version from the tool cache: $dir"
  cache_hit=true
else
  cache_hit=false
  tmp=$(mktemp -d "${RUNNER_TEMP:-/tmp}/infra-guard.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  echo "Downloading $base/$version/$archive"
  curl -fsSL --retry 3 --retry-connrefused -o "$tmp/SHA256SUMS" "$base/$version/SHA256SUMS" ||
    fail "cannot download $base/$version/SHA256SUMS"
  curl -fsSL --retry 3 --retry-connrefused -o "$tmp/$archive" "$base/$version/$archive" ||
    fail "cannot download $base/$version/$archive"
  want=$(awk -v f="$archive" '$2 == f || $2 == "*" f { print $1 }' "$tmp/SHA256SUMS")
  [ -n "$want" ] || fail "$archive is not listed in the release's SHA256SUMS"
  got=$(sha256 "$tmp/$archive")
  if [ "$got" != "$want" ]; then
    fail "checksum mismatch for $archive: SHA256SUMS says $want, the download is $got; not installing it"
  fi
  echo "$archive: SHA-256 $got, as SHA256SUMS says"
  mkdir -p "$tmp/unpacked"
  if [ "$ext" = zip ]; then
    unzip -q -o "$tmp/$archive" "$exe" -d "$tmp/unpacked"
  else
    tar -xzf "$tmp/$archive" -C "$tmp/unpacked" "$exe"
  fi
  rm -rf "$dir"
  mkdir -p "$dir"
  mv "$tmp/unpacked/$exe" "$dir/$exe"
  chmod +x "$dir/$exe"
  touch "$cache_root/$cache_arch.complete"
fi

"$dir/$exe" version
{
  echo "path=$dir"
  echo "version=$version"
  echo "cache-hit=$cache_hit"
} >>"$GITHUB_OUTPUT"
echo "$dir" >>"$GITHUB_PATH"
