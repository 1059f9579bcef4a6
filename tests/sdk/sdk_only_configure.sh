#!/usr/bin/env bash
# sdk_only_configure.sh SOURCE_DIR WORK_DIR
#
# Proves that `cmake -DMATIH_SDK_ONLY=ON` needs nothing but a compiler and CMake:
#   - PATH is a scratch directory holding only cmake, make, the C and C++ compilers and binutils
#     (no pkg-config), CMAKE_PREFIX_PATH is empty, and /usr, /usr/local and / are in
#     CMAKE_IGNORE_PREFIX_PATH and CMAKE_SYSTEM_IGNORE_PREFIX_PATH, so find_package and
#     pkg_check_modules cannot see libpqxx, libsodium, libgit2, Boost, spdlog, prometheus-cpp,
#     yaml-cpp, curl, OpenSSL or GTest even though this machine has them;
#   - the same configure without MATIH_SDK_ONLY must FAIL there (else the stripping proves nothing);
#   - with MATIH_SDK_ONLY=ON it configures, and `cmake --install` puts the headers, the CMake
#     package, the pkg-config file, the docs and the template into a scratch prefix, and nothing
#     compiled;
#   - a consumer configured in the same stripped environment finds the installed package.
set -euo pipefail

src=$1 work=$2
say() { printf 'sdk-only: %s\n' "$*" >&2; }
fail() { say "FAILED: $*"; exit 1; }

rm -rf "$work"
mkdir -p "$work/bin"
# The toolchain, and nothing else: a container with only a compiler and CMake.
for tool in cmake make cc c++ gcc g++ as ld ld.bfd; do
  real=$(command -v "$tool" || true)
  [[ -n $real ]] && ln -s "$(readlink -f "$real")" "$work/bin/$tool"
done
[[ -e $work/bin/cmake && -e $work/bin/make && -e $work/bin/c++ ]] || fail "cmake, make or c++ is not installed"
if [[ -e $work/bin/pkg-config ]]; then fail "pkg-config leaked into the stripped PATH"; fi

stripped() {
  env -i HOME="$work" PATH="$work/bin" LANG=C "$@"
}
ignore="/usr;/usr/local;/"
common=(-G "Unix Makefiles" -DCMAKE_C_COMPILER="$work/bin/cc" -DCMAKE_CXX_COMPILER="$work/bin/c++"
        -DCMAKE_PREFIX_PATH= -DCMAKE_IGNORE_PREFIX_PATH="$ignore" -DCMAKE_SYSTEM_IGNORE_PREFIX_PATH="$ignore"
        -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF)

say "negative control: the full project must not configure in the stripped environment"
if stripped cmake -S "$src" -B "$work/full" "${common[@]}" >"$work/full.log" 2>&1; then
  fail "the full project configured without its dependencies: the environment is not stripped (see $work/full.log)"
fi
grep -Eq "PkgConfig|pkg-config|Could NOT find|Could not find" "$work/full.log" ||
  fail "the full configure failed for another reason than a missing dependency: $(tail -5 "$work/full.log")"

say "configuring with -DMATIH_SDK_ONLY=ON"
stripped cmake -S "$src" -B "$work/build" "${common[@]}" -DMATIH_SDK_ONLY=ON >"$work/configure.log" 2>&1 ||
  fail "SDK-only configure failed: $(tail -20 "$work/configure.log")"
stripped cmake --build "$work/build" >"$work/build.log" 2>&1 || fail "SDK-only build failed: $(tail -20 "$work/build.log")"
stripped cmake --install "$work/build" --prefix "$work/prefix" >"$work/install.log" 2>&1 ||
  fail "SDK-only install failed: $(tail -20 "$work/install.log")"

for f in include/matih/step_abi.h include/matih/step.hpp include/matih/status_name.h include/matih/testing.hpp \
         share/cmake/MatihStepSdk/MatihStepSdkConfig.cmake share/cmake/MatihStepSdk/MatihStepSdkConfigVersion.cmake \
         share/cmake/MatihStepSdk/MatihStepSdkTargets.cmake share/cmake/MatihStepSdk/matih_step_plugin.map \
         share/pkgconfig/matih-step-sdk.pc share/doc/matih-provisioner-dev/README.md \
         share/doc/matih-provisioner-dev/template/CMakeLists.txt; do
  [[ -f $work/prefix/$f ]] || fail "the SDK-only install lacks $f"
done
if find "$work/prefix" \( -name '*.so*' -o -name '*.a' -o -perm -u+x -type f \) -print | grep -q .; then
  fail "the SDK-only install holds a binary: $(find "$work/prefix" \( -name '*.so*' -o -name '*.a' -o -perm -u+x -type f \))"
fi

say "a consumer finds the installed package in the same stripped environment"
mkdir -p "$work/consumer"
cat >"$work/consumer/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.16)
project(consumer LANGUAGES CXX)
find_package(MatihStepSdk 1.0 REQUIRED)
message(STATUS "consumer found MatihStepSdk ${MatihStepSdk_VERSION}")
EOF
stripped cmake -S "$work/consumer" -B "$work/consumer/build" -G "Unix Makefiles" -DCMAKE_CXX_COMPILER="$work/bin/c++" \
  -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_IGNORE_PREFIX_PATH="$ignore" >"$work/consumer.log" 2>&1 ||
  fail "a consumer could not find the installed SDK: $(tail -20 "$work/consumer.log")"
grep -q "consumer found MatihStepSdk 1\." "$work/consumer.log" || fail "the consumer did not report the SDK version"
say "ok"
