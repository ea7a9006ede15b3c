#!/usr/bin/env bash
# Checks that every #include points down the layers (README, layout): a file
# may include headers of its own layer and of the layers below, never above.
# The archives' link order (Makefile) already fails a call that reaches up;
# this also catches a header-only use, and names the offending line.
#
# usage: tools/check-layers.sh LAYER...   (bottom to top, as folder paths;
#        `make check-layers` passes the Makefile's list)
# The C layers are lib (with lib/hosts, the host networks above the core) and
# reference_svd: C code includes their headers plainly ("model.h"); the core
# in lib/ may not include a host's header. The C++ layers are named by their folder's last part
# in includes ("train/run.h"). Prints one line per violation and
# "check-layers: N files, N violations"; exits 1 on any violation.
set -uo pipefail
[ $# -ge 1 ] || { echo "usage: tools/check-layers.sh LAYER... (bottom to top)" >&2; exit 2; }
cd "$(dirname "$0")/.."
layers=("$@")
declare -A rank_of
for i in "${!layers[@]}"; do rank_of[$(basename "${layers[$i]}")]=$i; done
c_header_below() {  # c_header_below LAYER NAME: whether LAYER may include "NAME"
    [ -f "lib/$2" ] && return 0
    [ "$1" = lib ] && return 1
    [ -f "lib/hosts/$2" ] && return 0
    [ "$1" = reference_svd ] && [ -f "reference_svd/$2" ]
}
files=0; bad=0
for i in "${!layers[@]}"; do
    dir=${layers[$i]}
    for f in "$dir"/*.c "$dir"/*.cpp "$dir"/*.h; do
        [ -f "$f" ] || continue
        files=$((files + 1))
        while IFS=: read -r line inc; do
            inc=${inc#*\"}; inc=${inc%\"*}
            [[ $inc == generated/* ]] && continue  # made at build time (Makefile), below every layer
            if [[ $inc == */* ]]; then
                top=${inc%%/*}
                r=${rank_of[$top]:-}
                if [ -z "$r" ]; then
                    echo "$f:$line: includes \"$inc\", which is in no layer"; bad=$((bad + 1))
                elif [ "$r" -gt "$i" ]; then
                    echo "$f:$line: includes \"$inc\" from layer '$top', above '$(basename "$dir")'"; bad=$((bad + 1))
                fi
            elif [ "$dir" = lib ] || [ "$dir" = lib/hosts ] || [ "$dir" = reference_svd ]; then
                c_header_below "$dir" "$inc" ||
                    { echo "$f:$line: includes \"$inc\", not a header of $dir or below"; bad=$((bad + 1)); }
            elif ! [ -f "lib/$inc" ] && ! [ -f "lib/hosts/$inc" ] && ! [ -f "reference_svd/$inc" ]; then
                echo "$f:$line: includes \"$inc\" without its layer folder"; bad=$((bad + 1))
            fi
        done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" | sed 's/:.*#[[:space:]]*include[[:space:]]*/:/')
    done
done
echo "check-layers: $files files, $bad violations"
[ "$bad" -eq 0 ]
