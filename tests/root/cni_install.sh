#!/bin/bash
# `snare-cni install` makes a plugin that needs nothing from the node: installed into a bin
# directory, then copied into an otherwise empty root (only that directory, /proc and the pods'
# namespace files), the launcher runs VERSION, and an ADD for istio's basic case leaves the rules
# of its kernel form. A second install is a no-op for the launcher; one after the launcher was
# overwritten (as istio's install-cni does on its restart) puts it back. `install --watch` puts
# back the bundle within seconds: the whole directory removed, a library truncated, a SONAME link
# removed; the installed plugin works again (VERSION and an ADD in the empty root).
source "$SNARE_SOURCE_DIR/tests/lib.sh"
source "$SNARE_SOURCE_DIR/tests/root/apply_helpers.bash"
require_root
source "$SNARE_SOURCE_DIR/tests/cni/cni_lib.sh"
root=$CNI_WORK/root
bin=$root/opt/cni/bin
# /run/netns is a shared mount: its bind gets every namespace mounted later, so it is unmounted
# recursively (and lazily) before the work dir goes.
WATCH_PID=""
trap '[ -n "$WATCH_PID" ] && kill "$WATCH_PID" 2>/dev/null; umount -R -l "$root/run/netns" "$root/proc" "$root$CNI_WORK" 2>/dev/null || true; cni_cleanup' EXIT
mkdir -p "$bin" "$root/proc" "$root/run/netns" "$root$CNI_WORK"
out=$("$SNARE_CNI" install --cni-bin-dir "$bin" 2>&1) || fail "install: $out"
grep -q "installed $bin/istio-cni" <<<"$out" || fail "install said: $out"
python3 -c 'import json,sys; [json.loads(l) for l in sys.argv[1].splitlines()]' "$out" ||
  fail "install's stderr is not JSON lines: $out"
[ -x "$bin/istio-cni" ] && [ -x "$bin/snare-cni.d/snare-cni" ] && [ -e "$bin/snare-cni.d/ld-linux-x86-64.so.2" ] ||
  fail "install left no launcher or bundle"
out=$("$SNARE_CNI" install --cni-bin-dir "$bin" 2>&1) || fail "second install: $out"
grep -q "installed" <<<"$out" && fail "a second install rewrote the launcher"
echo "not the launcher" >"$bin/istio-cni"
"$SNARE_CNI" install --cni-bin-dir "$bin" 2>/dev/null || fail "install over a replaced launcher"
cmp -s "$bin/istio-cni" "$(dirname "$SNARE_CNI")/snare-cni-launcher" || fail "the launcher was not put back"

mount -t proc proc "$root/proc"
mount --rbind /run/netns "$root/run/netns"
mount --make-rslave "$root/run/netns"
mount --bind "$CNI_WORK" "$root$CNI_WORK"  # the kubeconfig and prevResults, at the same paths
[ ! -e "$root/lib" ] && [ ! -e "$root/usr" ] || fail "the root is not empty"
out=$(CNI_COMMAND=VERSION chroot "$root" /opt/cni/bin/istio-cni) || fail "VERSION in the empty root: $out"
grep -q '"1.0.0"' <<<"$out" || fail "VERSION: $out"

cni_setup
pod_new basic
SNARE_CNI_LINK=/opt/cni/bin/istio-cni
istio_conf basic | ip netns exec "$NODE" env -i CNI_COMMAND=ADD CNI_CONTAINERID=c-basic \
  CNI_NETNS="/run/netns/$POD" CNI_IFNAME=eth0 CNI_PATH=/opt/cni/bin \
  CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=basic" \
  "$(command -v chroot)" "$root" /opt/cni/bin/istio-cni >"$CNI_WORK/out" 2>"$CNI_WORK/err" ||
  fail "ADD in the empty root: $(cat "$CNI_WORK/out" "$CNI_WORK/err")"
want=$(normalize_save <"$(conformance_dir)/kernel-form/cni-sidecar/basic.v4.save")
[ "$(tables "$POD" 4)" = "$want" ] || fail "rules differ from the basic case's kernel form"

# install --watch: what is removed or changed in the bundle comes back, whole, within seconds.
# wait_for WHAT CONDITION...: polls CONDITION for up to 8 s (the watch looks every 2 s).
wait_for() {
  local what=$1 i
  shift
  for i in $(seq 80); do "$@" && return 0; sleep 0.1; done
  fail "install --watch: $what was not restored within 8 s: $(cat "$CNI_WORK/watch.log")"
}
"$SNARE_CNI" install --cni-bin-dir "$bin" --watch 2>"$CNI_WORK/watch.log" &
WATCH_PID=$!
wait_for "the first install" grep -q '"msg":"watching' "$CNI_WORK/watch.log"
libc=$(readlink -f "$(ldd "$SNARE_CNI" | awk '/libc.so.6/ {print $3}')")
bundle_ok() { cmp -s "$SNARE_CNI" "$bin/snare-cni.d/snare-cni" && cmp -s "$libc" "$bin/snare-cni.d/$(basename "$libc")"; }
rm -rf "$bin/snare-cni.d"
wait_for "the removed bundle" bundle_ok
: >"$bin/snare-cni.d/$(basename "$libc")"
wait_for "a truncated libc" bundle_ok
link=$(find "$bin/snare-cni.d" -type l -name 'lib*.so.*' -print -quit)
[ -n "$link" ] || fail "the bundle has no SONAME link"
target=$(readlink "$link")
rm -f "$link"
link_ok() { [ "$(readlink "$link" 2>/dev/null)" = "$target" ]; }
wait_for "a removed SONAME link ($link)" link_ok
grep -q '"msg":"restored' "$CNI_WORK/watch.log" || fail "install --watch did not say it restored: $(cat "$CNI_WORK/watch.log")"
python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1]) if l.strip()]' "$CNI_WORK/watch.log" ||
  fail "install --watch wrote a line to stderr that is not JSON: $(cat "$CNI_WORK/watch.log")"
kill "$WATCH_PID"
WATCH_PID=""
out=$(CNI_COMMAND=VERSION chroot "$root" /opt/cni/bin/istio-cni) || fail "VERSION after the restore: $out"
pod_new again
istio_conf again | ip netns exec "$NODE" env -i CNI_COMMAND=ADD CNI_CONTAINERID=c-again \
  CNI_NETNS="/run/netns/$POD" CNI_IFNAME=eth0 CNI_PATH=/opt/cni/bin \
  CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=basic" \
  "$(command -v chroot)" "$root" /opt/cni/bin/istio-cni >"$CNI_WORK/out" 2>"$CNI_WORK/err" ||
  fail "ADD after the restore: $(cat "$CNI_WORK/out" "$CNI_WORK/err")"
[ "$(tables "$POD" 4)" = "$want" ] || fail "after the restore: rules differ from the basic case's kernel form"
echo "PASS cni_install"
