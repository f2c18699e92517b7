#!/bin/bash
# Every Kubernetes manifest and values file under packaging/k8s parses, and the arguments it
# gives snare are accepted: init containers' by `snare --dry-run`, the proxy's by
# `snare proxy --check` (parse and validate, then exit), the CNI DaemonSet's `install` by
# snare-cni installing into a scratch directory. Security contexts ask for no more than they need.
set -euo pipefail
exec /usr/bin/python3 - "$SNARE" "$SNARE_SOURCE_DIR/packaging/k8s" "$SNARE_CNI" <<'PY'
import glob, os, subprocess, sys, tempfile
import yaml
snare, folder, snare_cni = sys.argv[1], sys.argv[2], sys.argv[3]
passed = failed = 0
def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what)
files = sorted(glob.glob(os.path.join(folder, "*.yaml")))
check(len(files) >= 3, f"expected the three manifests in {folder}")
for path in files:
    name = os.path.basename(path)
    docs = [d for d in yaml.safe_load_all(open(path)) if d]
    check(bool(docs), f"{name}: no YAML document")
    for doc in docs:
        if doc.get("kind") == "DaemonSet":
            for c in doc["spec"]["template"]["spec"]["containers"]:
                args = [str(a) for a in c.get("args", [])]
                sc = c.get("securityContext", {})
                check(sc.get("allowPrivilegeEscalation") is False and not sc.get("privileged"),
                      f"{name}/{c['name']}: must not escalate")
                check(sc.get("capabilities", {}).get("drop") == ["ALL"], f"{name}/{c['name']}: must drop ALL")
                check(args[:1] == ["install"] and "--cni-bin-dir" in args, f"{name}/{c['name']}: args {args}")
                mounts = {m["mountPath"] for m in c.get("volumeMounts", [])}
                check(args[args.index("--cni-bin-dir") + 1] in mounts, f"{name}/{c['name']}: bin dir not mounted")
                with tempfile.TemporaryDirectory() as d:
                    r = subprocess.run([snare_cni, "install", "--cni-bin-dir", d], capture_output=True, text=True)
                    check(r.returncode == 0 and os.path.exists(os.path.join(d, "istio-cni")),
                          f"{name}: snare-cni install failed: {r.stderr.strip()}")
            continue
        if doc.get("kind") != "Pod":
            image = doc.get("global", {}).get("proxy_init", {}).get("image", "")
            check("/" in image, f"{name}: global.proxy_init.image must be a full image name (with '/')")
            continue
        spec = doc["spec"]
        for c in spec.get("initContainers", []) + spec.get("containers", []):
            if "snare" not in c.get("image", ""):
                continue
            args = [str(a) for a in c.get("args", [])]
            sc = c.get("securityContext", {})
            check(sc.get("allowPrivilegeEscalation") is False, f"{name}/{c['name']}: allowPrivilegeEscalation must be false")
            check(not sc.get("privileged"), f"{name}/{c['name']}: must not be privileged")
            added = set(sc.get("capabilities", {}).get("add", []))
            check(added <= {"NET_ADMIN", "NET_RAW"}, f"{name}/{c['name']}: capabilities {added}")
            check(sc.get("capabilities", {}).get("drop") == ["ALL"], f"{name}/{c['name']}: must drop ALL")
            if args and args[0] == "proxy":
                r = subprocess.run([snare, *args, "--check"], capture_output=True, text=True)
            else:
                r = subprocess.run([snare, *args, "--dry-run", "--enable-ipv6=false"], capture_output=True, text=True)
                check("-A ISTIO_OUTPUT" in r.stdout, f"{name}/{c['name']}: dry-run printed no rules")
            check(r.returncode == 0, f"{name}/{c['name']}: snare refused {args}: {r.stderr.strip()}")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
