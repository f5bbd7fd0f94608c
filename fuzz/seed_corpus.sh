#!/bin/sh
# Seeds fuzz/corpus/<target>/ from testdata/ and the shared conformance
# fixtures (../shared/conformance by default). Run from the repository root:
#   sh fuzz/seed_corpus.sh [CONFORMANCE_DIR]
#   cargo +nightly fuzz run package_lock -- -max_total_time=600
set -eu
conf=${1:-../shared/conformance}
seed() { # target, find-args...
    t=$1; shift
    mkdir -p "fuzz/corpus/$t"
    find testdata "$conf" -type f "$@" 2>/dev/null | while read -r f; do
        cp "$f" "fuzz/corpus/$t/$(echo "$f" | tr '/' '_')"
    done
}
seed package_lock \( -name 'package-lock*.json' -o -name 'npm-shrinkwrap*.json' -o -path '*npm-package-lock*' -name '*.json' ! -name expected.json \)
seed yarn_v1 -path '*yarn*' \( -name '*.lock' -o -name '*.v1.*' \)
seed yarn_berry -path '*yarn*' \( -name '*.lock' -o -name '*.v2.*' \)
seed pnpm_lock \( -name '*.yaml' -o -name '*.yml' \)
seed bun_lock \( -name 'bun.lock' -o -name '*.json5' \)
seed installed_package_json -path '*node_modules*' -name package.json
seed package_json -name package.json ! -path '*node_modules*'
seed requirements \( -name 'requirements*.txt' -o -path '*pip-requirements*' -name '*.txt' \)
seed poetry_lock -path '*poetry*' ! -name expected.json
seed pipfile_lock -path '*pipfile*' ! -name expected.json
seed uv_lock -path '*uv*' ! -name expected.json
seed pdm_lock -path '*pdm*' ! -name expected.json
seed pylock \( -name 'pylock*.toml' -o -path '*pylock*' -name '*.toml' \)
seed dist_info_metadata \( -name METADATA -o -name PKG-INFO \)
seed cargo_lock \( -name 'Cargo.lock' -o -path '*cargo-lock*' ! -name expected.json \)
seed cargo_toml -name 'Cargo.toml'
seed auditable -path '*auditable*' ! -name expected.json
seed policy -name 'depwarden*.toml'
seed osv_record -path '*osv*' -name '*.json'
