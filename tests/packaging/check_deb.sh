#!/usr/bin/env bash
# Builds the .deb packages with CPack from a build folder and checks what each holds.
#   check_deb.sh <build dir> <output dir> <source dir>
set -euo pipefail
build=$1 out=$2 src=$3
for tool in cpack dpkg-deb dpkg-shlibdeps; do
  command -v "$tool" >/dev/null || { echo "SKIPPED: $tool is not installed (scripts/install-deps)"; exit 77; }
done
rm -rf "$out"
mkdir -p "$out"
(cd "$build" && cpack -G DEB -B "$out" >"$out/cpack.log" 2>&1) || { cat "$out/cpack.log"; echo "FAIL: cpack"; exit 1; }

fail=0
check() {  # check <deb> <description> <regex over `dpkg-deb -c` paths>
  if grep -qE "$3" <<<"$contents"; then
    echo "  ok   $2"
  else
    echo "  FAIL $2 (no path matches $3)"; fail=1
  fi
}

deb=$(ls "$out"/matih-provisioner_*.deb 2>/dev/null | head -1)
if [[ -z "$deb" ]]; then echo "FAIL: no matih-provisioner_*.deb"; ls "$out"; exit 1; fi
contents=$(dpkg-deb -c "$deb" | awk '{print $6}')
echo "$(basename "$deb"): $(wc -l <<<"$contents") entries"
check "$deb" "the binary" '^\./usr/bin/matih-provisioner$'
check "$deb" "the plugin folder" '^\./usr/lib/matih-provisioner/plugins/$'
plugins=$(find "$build/plugins" -maxdepth 1 -name '*.so' -printf '%f\n' 2>/dev/null | sort)
for p in $plugins; do check "$deb" "plugin $p" "^\./usr/lib/matih-provisioner/plugins/${p//./\\.}\$"; done
[[ -n "$plugins" ]] || echo "  note: this build has no built-in plugins yet"
check "$deb" "the step catalog" '^\./etc/matih-provisioner/catalog\.yaml$'
while IFS= read -r f; do
  check "$deb" "config/$f" "^\./etc/matih-provisioner/$(sed 's/[.[\*^$+?(){}|]/\\&/g' <<<"$f")\$"
done < <(cd "$src/config" && find . -type f -printf '%P\n' | sort)
check "$deb" "the example config" '^\./etc/matih-provisioner/matih-provisioner\.conf$'
check "$deb" "the systemd service" '^\./lib/systemd/system/matih-provisioner\.service$'
check "$deb" "the systemd timer" '^\./lib/systemd/system/matih-provisioner\.timer$'
check "$deb" "the cron example" '^\./usr/share/doc/matih-provisioner/examples/matih-provisioner\.cron$'
check "$deb" "the runbook" '^\./usr/share/doc/matih-provisioner/operations\.md$'
check "$deb" "the alerting rules" '^\./usr/share/doc/matih-provisioner/monitoring/matih-provisioner\.rules\.yml$'
check "$deb" "the dashboard" '^\./usr/share/doc/matih-provisioner/monitoring/matih-provisioner\.dashboard\.json$'
if grep -qE '^\./usr/include/' <<<"$contents"; then echo "  FAIL the runtime package holds headers"; fail=1; fi

control=$(dpkg-deb -f "$deb")
conffiles=$(dpkg-deb -I "$deb" conffiles 2>/dev/null || true)
grep -q '^Package: matih-provisioner$' <<<"$control" && echo "  ok   Package: matih-provisioner" || { echo "  FAIL package name"; fail=1; }
grep -qE '^Depends: .*libpqxx' <<<"$control" && echo "  ok   Depends (from dpkg-shlibdeps) names libpqxx" || { echo "  FAIL Depends lacks libpqxx: $(grep '^Depends' <<<"$control")"; fail=1; }
grep -qx '/etc/matih-provisioner/catalog.yaml' <<<"$conffiles" && echo "  ok   /etc files are conffiles" || { echo "  FAIL catalog.yaml is not a conffile"; fail=1; }

dev=$(ls "$out"/matih-provisioner-dev_*.deb 2>/dev/null | head -1)
if [[ -z "$dev" ]]; then
  echo "FAIL: no matih-provisioner-dev_*.deb (does sdk/CMakeLists.txt install anything with COMPONENT dev?)"
  fail=1
else
  contents=$(dpkg-deb -c "$dev" | awk '{print $6}')
  echo "$(basename "$dev"): $(wc -l <<<"$contents") entries"
  check "$dev" "the C ABI header" '^\./usr/include/matih/step_abi\.h$'
  check "$dev" "the C++ layer" '^\./usr/include/matih/step\.hpp$'
  check "$dev" "the CMake package" '/cmake/MatihStepSdk/MatihStepSdkConfig\.cmake$'
  check "$dev" "the CMake package version file" '/cmake/MatihStepSdk/MatihStepSdkConfigVersion\.cmake$'
  if grep -qE '^\./usr/bin/' <<<"$contents"; then echo "  FAIL the -dev package holds programs"; fail=1; fi
fi
((fail == 0)) || { echo "FAIL: see above"; exit 1; }
echo "ok: both packages hold what they should"
