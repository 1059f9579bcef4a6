#!/usr/bin/env bash
# build_example_out_of_tree.sh BUILD_DIR EXAMPLE_SOURCE WORK_DIR HOST_TEST
#
# What a third party does, end to end, on this machine:
#   1. install the SDK from BUILD_DIR with `cmake --install --component dev` into a private prefix;
#   2. copy the example plugin's sources out of the tree and configure + build them with clang++
#      (with libc++ when it links), finding the SDK only through find_package(MatihStepSdk);
#   2b. run the example's own test (sdk/examples/hello_step/hello_step_test.cc, on
#      <matih/testing.hpp>: no runner, no database) with ctest, against the linked sources and
#      against the built module;
#   3. build it once more from a bare clang++ command line using only pkg-config's flags;
#   4. hand both plugin directories to HOST_TEST, a GCC-built program that loads and runs them
#      with the real PluginHost.
set -euo pipefail

build_dir=$1 example_src=$2 work=$3 host_test=$4
say() { printf 'out-of-tree: %s\n' "$*" >&2; }

command -v clang++ >/dev/null || { say "clang++ is not installed (apt-get install clang)"; exit 1; }
rm -rf "$work"
mkdir -p "$work"
prefix=$work/sdk

say "installing the SDK (component dev) into $prefix"
cmake --install "$build_dir" --component dev --prefix "$prefix" >"$work/install.log"
for f in include/matih/step_abi.h include/matih/step.hpp include/matih/status_name.h include/matih/testing.hpp share/cmake/MatihStepSdk/MatihStepSdkConfig.cmake \
         share/cmake/MatihStepSdk/MatihStepSdkConfigVersion.cmake share/pkgconfig/matih-step-sdk.pc; do
  [[ -f $prefix/$f ]] || { say "the installed SDK lacks $f"; exit 1; }
done
# Headers, package files and documentation only: no library, no source outside share/doc.
if find "$prefix" -path "$prefix/share/doc" -prune -o \( -name '*.so*' -o -name '*.a' -o -name '*.cc' \) -print |
   grep -q .; then
  say "the dev component installed more than headers and package files:"; find "$prefix" -type f >&2; exit 1
fi

cp -r "$example_src" "$work/src"

stdlib_flags=
if printf '#include <string>\nint main(){return std::string("x").size()==1?0:1;}\n' |
   clang++ -stdlib=libc++ -x c++ - -o "$work/libcxx-probe" 2>/dev/null && "$work/libcxx-probe"; then
  stdlib_flags=-stdlib=libc++
  say "building with clang++ and libc++"
else
  say "libc++ does not link here; building with clang++ and libstdc++"
fi

cmake -S "$work/src" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_CXX_FLAGS="$stdlib_flags" \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF >"$work/configure.log"
cmake --build "$work/build" -j 2 >"$work/build.log"

say "running the example's own test (matih/testing.hpp) out of tree"
ctest --test-dir "$work/build" --output-on-failure >"$work/ctest.log" 2>&1 ||
  { cat "$work/ctest.log" >&2; say "the example's own test failed"; exit 1; }
grep -q "100% tests passed, 0 tests failed out of 2" "$work/ctest.log" ||
  { cat "$work/ctest.log" >&2; say "the example's test did not run both variants"; exit 1; }
if [[ -n $stdlib_flags ]] && ! readelf -d "$work/build/hello_step_test" | grep -q 'libc++\.so'; then
  say "the example's test was not linked with libc++"; exit 1
fi

mkdir -m 0755 "$work/plugins" "$work/plugins-pkgconfig"
install -m 0755 "$work/build/hello_step.so" "$work/plugins/hello_step.so"

say "building again with pkg-config's flags only"
export PKG_CONFIG_PATH=$prefix/share/pkgconfig
cflags=$(pkg-config --cflags matih-step-sdk)
map=$(pkg-config --variable=plugin_version_script matih-step-sdk)
# shellcheck disable=SC2086
clang++ $stdlib_flags -std=c++17 -O2 -fPIC -shared -fvisibility=hidden -fvisibility-inlines-hidden $cflags \
  "$work/src/hello_step.cc" -Wl,--version-script="$map" -Wl,--no-undefined \
  -o "$work/plugins-pkgconfig/hello_step.so"
chmod 0755 "$work/plugins-pkgconfig/hello_step.so"

say "loading both into the GCC-built host"
export MATIH_EXAMPLE_PLUGIN_DIRS="$work/plugins:$work/plugins-pkgconfig"
export MATIH_EXAMPLE_EXPECT_LIBCXX=$([[ -n $stdlib_flags ]] && echo 1 || echo 0)
exec "$host_test"
