#!/usr/bin/env bash
# Builds bin/tdkt-ferretdb (FerretDB v1 embedded, SQLite backend) into $1 (a cache folder).
# Idempotent: does nothing when the binary for this exact source and patch already exists.
#
# One upstream fix is applied to a private copy of the module before building. In FerretDB
# v1.24.2 the SQLite backend looks documents up by `_id` with the expression
# `_ferretdb_sjson->'$._id'` while the unique index on `_id` is created on `_ferretdb_sjson->"_id"`.
# SQLite only uses an expression index for the identical expression, so every lookup, update and
# delete by `_id` scanned the whole table (measured: 12 ms per update at 5,000 documents, growing
# linearly). Making the lookup use the index's expression turns those into index searches.
#
# A second fix makes single-document updates atomic, as MongoDB's are. FerretDB v1 runs an
# update (and findAndModify, and delete) as "query the documents, change them in Go, write them
# back" with nothing held in between, so two concurrent updates of one document can both read it
# and the later write silently undoes the earlier one (seen here: an outbox relay's $pullAll
# erasing a writer's $push that happened meanwhile, i.e. a lost event and a lost state change).
# The patch serialises those three commands with one process-wide mutex. SQLite admits a single
# writer at a time anyway, so the cost is small; production runs on MongoDB, which needs none.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${1:?usage: build.sh CACHE_DIR}
mkdir -p "$cache" && cache=$(cd "$cache" && pwd)
version=$(awk '$1=="require" && $2=="github.com/FerretDB/FerretDB" {print $3}' "$here/go.mod")
stamp=$(cat "$here/go.mod" "$here/go.sum" "$here/main.go" "$0" | sha256sum | cut -c1-16)
bin="$cache/tdkt-ferretdb-$version-$stamp"

if [ -x "$bin" ]; then
  ln -sfn "$bin" "$cache/tdkt-ferretdb"
  exit 0
fi

command -v go >/dev/null || { echo "Go is not installed: the local MongoDB-protocol store (FerretDB) is built with Go 1.22 or newer." >&2; exit 3; }

mkdir -p "$cache"
work="$cache/build-$stamp"
rm -rf "$cache"/build-* && mkdir -p "$work"
(cd "$here" && go mod download github.com/FerretDB/FerretDB)
modsrc=$(cd "$here" && go list -m -f '{{.Dir}}' github.com/FerretDB/FerretDB)

cp -r "$modsrc" "$work/ferretdb-src" && chmod -R u+w "$work/ferretdb-src"
meta="$work/ferretdb-src/internal/backends/sqlite/metadata/metadata.go"
sed -i "s|IDColumn = DefaultColumn + \"->'\\\$._id'\"|IDColumn = DefaultColumn + \"->\\\\\"_id\\\\\"\"|" "$meta"
grep -q 'IDColumn = DefaultColumn + "->\\"_id\\""' "$meta" || { echo "FerretDB $version: the _id index patch no longer applies; review deploy/local/ferretdb/build.sh" >&2; exit 4; }

handler="$work/ferretdb-src/internal/handler"
cat > "$handler/tdkt_write_lock.go" <<'GO'
package handler

import "sync"

// documentWriteMu serialises read-modify-write commands (update, findAndModify, delete) so that
// each is atomic per document, as in MongoDB. Added by the TĐKT build (deploy/local/ferretdb/build.sh).
var documentWriteMu sync.Mutex
GO
for target in "msg_update.go:updateDocument" "msg_findandmodify.go:findAndModifyDocument" "msg_delete.go:execDelete"; do
  file="$handler/${target%%:*}" func="${target##*:}"
  grep -q "^func (h \*Handler) $func(" "$file" || { echo "FerretDB $version: $func not found in $file; review deploy/local/ferretdb/build.sh" >&2; exit 4; }
  perl -0pi -e "s/^(func \\(h \\*Handler\\) $func\\(.*\\{\\n)/\\1\\tdocumentWriteMu.Lock()\\n\\tdefer documentWriteMu.Unlock()\\n\\n/m" "$file"
  grep -q "documentWriteMu.Lock()" "$file" || { echo "FerretDB $version: could not patch $func; review deploy/local/ferretdb/build.sh" >&2; exit 4; }
done

mkdir -p "$work/cmd"
cp "$here/main.go" "$here/go.mod" "$here/go.sum" "$work/cmd/"
(cd "$work/cmd" && go mod edit -replace "github.com/FerretDB/FerretDB=../ferretdb-src" && go build -trimpath -o "$bin.tmp" .)
mv "$bin.tmp" "$bin"
ln -sfn "$bin" "$cache/tdkt-ferretdb"
rm -rf "$work"
find "$cache" -maxdepth 1 -name "tdkt-ferretdb-*" ! -name "$(basename "$bin")" -delete  # older builds
