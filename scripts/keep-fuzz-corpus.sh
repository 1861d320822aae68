#!/usr/bin/env bash
# Copies the inputs that fuzzing found interesting, which Go keeps in its
# build cache, into each package's testdata/fuzz/<Target>/, where every
# `go test` replays them and where they survive a fresh clone.
# Run after `make fuzz` (or a longer FUZZTIME), then commit testdata.
set -euo pipefail
cd "$(dirname "$0")/.."
module=$(go list -m)
cache="$(go env GOCACHE)/fuzz/$module"
[ -d "$cache" ] || { echo "keep-fuzz-corpus: nothing in $cache; run make fuzz first" >&2; exit 1; }
n=0
while IFS= read -r dir; do
	target=$(basename "$dir")
	pkg=${dir#"$cache"/}
	pkg=${pkg%/"$target"}
	dest="$pkg/testdata/fuzz/$target"
	[ -d "$pkg" ] || continue
	mkdir -p "$dest"
	for f in "$dir"/*; do
		[ -f "$dest/$(basename "$f")" ] || { cp "$f" "$dest/"; n=$((n + 1)); }
	done
done < <(find "$cache" -mindepth 2 -type d -name 'Fuzz*')
echo "keep-fuzz-corpus: $n new inputs copied"
