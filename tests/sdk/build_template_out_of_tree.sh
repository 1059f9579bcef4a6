#!/usr/bin/env bash
# build_template_out_of_tree.sh BUILD_DIR WORK_DIR [MATIH_PROVISIONER]
#
# The plugin template builds and passes its own test as it is: install the SDK (component dev)
# from BUILD_DIR into a scratch prefix, copy the template FROM THAT INSTALL (as a third party gets
# it), configure, build (-Werror) and run its ctest; then check the built plugin exports only the
# entry point; with MATIH_PROVISIONER, `plugins try` the template's kind in the runner.
set -euo pipefail

build_dir=$1 work=$2 provisioner=${3:-}
say() { printf 'template: %s\n' "$*" >&2; }

rm -rf "$work"
mkdir -p "$work"
cmake --install "$build_dir" --component dev --prefix "$work/sdk" >"$work/install.log"
template=$work/sdk/share/doc/matih-provisioner-dev/template
for f in CMakeLists.txt plugin.cc token_step.h token_step.cc token_step_test.cc README.md catalog-snippet.yaml; do
  [[ -f $template/$f ]] || { say "the installed template lacks $f"; exit 1; }
done
cp -r "$template" "$work/src"

cmake -S "$work/src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$work/sdk" \
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF >"$work/configure.log" 2>&1 ||
  { cat "$work/configure.log" >&2; say "configure failed"; exit 1; }
cmake --build "$work/build" -j 2 >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; say "build failed"; exit 1; }
ctest --test-dir "$work/build" --output-on-failure >"$work/ctest.log" 2>&1 ||
  { cat "$work/ctest.log" >&2; say "the template's test failed"; exit 1; }
grep -q "100% tests passed, 0 tests failed out of 2" "$work/ctest.log" ||
  { cat "$work/ctest.log" >&2; say "the template's test did not run both variants"; exit 1; }
exports=$(nm -D --defined-only "$work/build/my_plugin.so" | awk '{print $3}')
[[ $exports == matih_step_plugin_init ]] || { say "my_plugin.so exports more than the entry point: $exports"; exit 1; }
if [[ -n $provisioner ]]; then
  mkdir -m 0755 "$work/plugins"
  install -m 0755 "$work/build/my_plugin.so" "$work/plugins/"
  "$provisioner" --log-level warn --plugin-dir "$work/plugins" plugins try --kind my.token \
    --params '{"name": "api-token"}' --setting my.token_bytes=24 >"$work/try.log" 2>&1 ||
    { cat "$work/try.log" >&2; say "plugins try of the template's kind failed"; exit 1; }
  grep -q "idempotent: yes" "$work/try.log" || { cat "$work/try.log" >&2; say "plugins try did not say idempotent"; exit 1; }
fi
say "ok"
