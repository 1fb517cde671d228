#!/usr/bin/env bash
# Builds the Docker Compose CLI (v2+ line, `docker compose`) from the Go module proxy into the
# cache folder, for machines whose docker client came without its compose plugin (this project's
# machines: `docker compose version` answers "unknown command"). `docker compose config` needs no
# engine, so with this binary tests/deploy checks docker-compose.yml on any machine with Go.
#
#   bash deploy/compose/build-cli.sh            # → $TDKT_CACHE or var/cache/docker-compose
#   bash deploy/compose/build-cli.sh --plugin   # also link it as ~/.docker/cli-plugins/docker-compose
#
# Idempotent: does nothing when the binary of this version is there (a second run takes no time).
# The first build downloads about 280 MB of modules and compiles for 1–3 minutes on 2 cores.
#
# Built from a copy of the module's source rather than with `go install module@version`: the
# module's go.mod has `exclude` directives, which `go install …@version` refuses; building inside
# the module honours them, so the versions are exactly those upstream releases with.
set -euo pipefail

VERSION=v5.6.0  # needs Go 1.26.8 or newer (its go.mod); v5.7 needs 1.26.10
MODULE=github.com/docker/compose/v5

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${TDKT_CACHE:-$repo/var/cache}
mkdir -p "$cache" && cache=$(cd "$cache" && pwd)
bin="$cache/docker-compose-$VERSION"

if [ ! -x "$bin" ]; then
  command -v go >/dev/null || { echo "Go is not installed: the compose CLI is built with Go 1.26.8 or newer (the same Go that builds FerretDB for make up)." >&2; exit 3; }
  export GOFLAGS=-buildvcs=false
  work="$cache/build-compose-$VERSION"
  rm -rf "$work"
  src=$(cd "$cache" && go mod download -json "$MODULE@$VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -d "$src" ] || { echo "go mod download $MODULE@$VERSION gave no source folder" >&2; exit 1; }
  cp -r "$src" "$work" && chmod -R u+w "$work"
  (cd "$work" && go build -trimpath -ldflags "-s -w -X $MODULE/internal.Version=$VERSION" -o "$bin.partial" ./cmd)
  mv "$bin.partial" "$bin"  # only a complete binary ever has the final name
  rm -rf "$work"
fi
ln -sfn "$(basename "$bin")" "$cache/docker-compose"

if [ "${1:-}" = "--plugin" ]; then
  plugins="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"
  mkdir -p "$plugins" && ln -sfn "$bin" "$plugins/docker-compose"
  echo "docker compose → $bin"
fi
"$bin" version
