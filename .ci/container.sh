#!/usr/bin/env bash
# Builds the infra-guard container image without a registry and runs it:
# scratch + the static binary + Debian's CA bundle + a passwd line for the
# non-root user 65532, WORKDIR /guard, entrypoint infra-guard -- the same
# layout as the Dockerfile's distroless image, which needs a base image
# pulled from a registry that this machine cannot reach.
#
#   .ci/container.sh [BINARY]    (default: goreleaser's dist/infra-guard_linux_amd64_v1/infra-guard,
#                                 else a fresh CGO_ENABLED=0 build)
#
# Needs root and Debian's buildah and runc (.ci/run installs them); uses
# the vfs storage driver in a temporary storage root, removed at the end.
# Skips, saying why, when buildah is missing or cannot create a container.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v buildah >/dev/null; then
  echo "SKIP container: buildah is not installed (apt-get install buildah runc)"
  exit 0
fi

work=$(mktemp -d)
b() { buildah --storage-driver vfs --root "$work/storage" --runroot "$work/run" "$@"; }
cleanup() {
  b rm --all >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

bin=${1:-dist/infra-guard_linux_amd64_v1/infra-guard}
if [ ! -x "$bin" ]; then
  bin=$work/infra-guard
  echo "== building a static infra-guard"
  CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$bin" .
fi
if command -v file >/dev/null && ! file -L "$bin" | grep -q 'statically linked'; then
  echo "$bin is not a static binary: $(file -L "$bin")" >&2
  exit 1
fi

if ! probe=$(b from scratch 2>&1); then
  echo "SKIP container: buildah cannot create a container here: $probe"
  exit 0
fi
b rm "$probe" >/dev/null

# The image's files, as the distroless base has them.
root=$work/rootfs
mkdir -p "$root/usr/bin" "$root/etc/ssl/certs" "$root/guard" "$root/root" "$root/home/nonroot" "$root/tmp"
install -m 0755 "$bin" "$root/usr/bin/infra-guard"
install -m 0644 /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$root/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$root/etc/group"
chmod 0700 "$root/root"
touch "$root/root/.profile"
chmod 1777 "$root/tmp"

echo "== buildah: scratch + infra-guard + CA bundle + user nonroot (65532)"
ctr=$(b from scratch)
b copy --chown 0:0 "$ctr" "$root/" / >/dev/null
b config \
  --user 65532:65532 \
  --workingdir /guard \
  --entrypoint '["/usr/bin/infra-guard"]' \
  --cmd '' \
  --label org.opencontainers.image.title=infra-guard \
  --label org.opencontainers.image.licenses=Apache-2.0 \
  "$ctr"
b commit --quiet --rm "$ctr" localhost/infra-guard:ci >/dev/null
b push --quiet localhost/infra-guard:ci "oci-archive:$work/image.tar" >/dev/null
image_bytes=$(stat -c %s "$work/image.tar")
rootfs_bytes=$(du -sb "$root" | cut -f1)
echo "image: $(b images --format '{{.Size}}' localhost/infra-guard:ci) as buildah counts it; OCI archive $((image_bytes / 1024)) KiB; files $((rootfs_bytes / 1024)) KiB"
limit=$((20 * 1024 * 1024))
if [ "$image_bytes" -gt "$limit" ]; then
  echo "the image is over 20 MiB" >&2
  exit 1
fi
user=$(b inspect --type image --format '{{.OCIv1.Config.User}}' localhost/infra-guard:ci)
[ "$user" = 65532:65532 ] || { echo "image user is '$user', want 65532:65532" >&2; exit 1; }
workdir=$(b inspect --type image --format '{{.OCIv1.Config.WorkingDir}}' localhost/infra-guard:ci)
[ "$workdir" = /guard ] || { echo "image working directory is '$workdir', want /guard" >&2; exit 1; }

# Scripts for the container: the examples as /guard, one of our own as /ci.
mkdir -p "$work/ci"
cat >"$work/ci/nonroot.star" <<'STAR'
# As non-root, a check cannot look into /root (0700, root's): UNKNOWN, permission denied.
check("root-home", lambda: file("/root/.profile").exists)
STAR
cat >"$work/ci/image.star" <<'STAR'
# What the image must hold: the CA bundle, and the examples mounted at /guard.
check("ca-bundle", lambda: file("/etc/ssl/certs/ca-certificates.crt").size > 100000)
check("guard-mounted", lambda: file("/guard/guard.star").exists)
STAR

run() { # run EXPECTED_EXIT ARGS... (in a fresh container of the image, as its user); EXPECTED_EXIT may be "0|1"
  local want=$1 code=0 c
  shift
  c=$(b from localhost/infra-guard:ci)
  b run --volume "$PWD/examples:/guard:ro" --volume "$work/ci:/ci:ro" "$c" -- /usr/bin/infra-guard "$@" >"$work/out" 2>&1 || code=$?
  b rm "$c" >/dev/null
  cat "$work/out"
  if ! [[ $code =~ ^($want)$ ]]; then
    echo "infra-guard $* exited $code in the container, want $want" >&2
    exit 1
  fi
}

echo "== in the container: version"
run 0 version
echo "== in the container: the image's own guard, as user 65532"
run 0 run /ci/image.star
# The example guard watches the machine: its load check may warn (exit 1)
# on a loaded CI machine.
echo "== in the container: the example guard as guard.star, found in the working directory /guard"
run "0|1" run guard.star
echo "== in the container: the user cannot read root's home (so it is not root)"
run 3 run /ci/nonroot.star
grep -q 'permission denied' "$work/out" || { echo "want 'permission denied' reading /root as non-root" >&2; exit 1; }
echo "container: ok"
