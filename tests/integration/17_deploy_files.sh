#!/usr/bin/env bash
# The deployment files are true to the code, checked here without a Docker
# engine or a Kubernetes cluster (this machine has neither):
# - deploy/Dockerfile's build stage, given exactly the files it copies and
#   run with its own make target, builds every binary that docker-compose.yml
#   and deploy/k8s start; its packages hold the pkg-config modules the
#   Makefile links; the runtime stage installs the package of every library
#   a binary needs (its ELF NEEDED entries); its user is the manifests' uid;
# - docker-compose.yml and deploy/k8s: every service runs with settings it
#   knows (`hc-<service> --help`) and every required one set; the gateway's
#   service URLs name the services and their ports; referenced secret and
#   config keys exist; probes ask /livez and /readyz on the HTTP port; a pod
#   with a static Kafka instance id is a StatefulSet's, the id its own name;
#   each internal service admits only the gateway; the kustomization lists
#   every manifest.
. "$(dirname "$0")/lib.sh"

rc=0
python3 - "$HC_TEST_TMP/image" "$HC_BUILD/bin" <<'PY' || rc=$?
import os, re, shutil, subprocess, sys
import yaml

tmp, bindir = sys.argv[1], sys.argv[2]
errors = []


def check(ok, what):
    if not ok:
        errors.append(what)
    return ok


# ---- the Dockerfile ----
def stages(path):
    out = []
    for line in open(path).read().replace("\\\n", " ").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            if word == "FROM":
                out.append([])
            else:
                out[-1].append((word, rest.strip()))
    return out


def packages(stage):
    found = set()
    for word, rest in stage:
        if word == "RUN" and "apt-get install" in rest:
            found |= {t for t in rest.split("apt-get install", 1)[1].split("&&")[0].split()
                      if not t.startswith("-")}
    return found


build, runtime = stages("deploy/Dockerfile")
src = os.path.join(tmp, "src")
os.makedirs(src)
target = None
for word, rest in build:
    if word == "COPY":
        a, b = rest.split()
        dst = os.path.join(src, b, os.path.basename(a)) if b.endswith("/") else os.path.join(src, b)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        (shutil.copytree if os.path.isdir(a) else shutil.copy)(a, dst)
    elif word == "RUN" and rest.startswith("make"):
        target = rest.split()[-1]
check(target == "bins", "the build stage runs make bins, not %r" % target)
# as docker build runs it: none of this run's make settings (SAN=1 when the suite is sanitized)
env = {k: v for k, v in os.environ.items() if k not in ("SAN", "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "BUILD")}
made = subprocess.run(["make", "-j2", target], cwd=src, capture_output=True, text=True, env=env)
if not check(made.returncode == 0, "the build stage's make failed"):
    print(made.stdout[-3000:], made.stderr[-3000:])
    sys.exit(1)
print("the build stage built %s from what it copies" % target)

makefile = open("Makefile").read()
services = re.search(r"^SERVICES\s*:=\s*(.+)$", makefile, re.M).group(1).split()
pkgs = re.search(r"^PKGS\s*:=\s*(.+)$", makefile, re.M).group(1).split()


def owner(path):
    for p in (path, os.path.realpath(path), re.sub(r"^/usr", "", os.path.realpath(path))):
        r = subprocess.run(["dpkg", "-S", p], capture_output=True, text=True)
        if r.returncode == 0:
            return r.stdout.split(":")[0]
    return None


build_pkgs = packages(build)
for m in pkgs + ["libpq"]:
    pc = subprocess.run(["pkg-config", "--variable=pcfiledir", m], capture_output=True,
                        text=True).stdout.strip()
    o = owner(os.path.join(pc, m + ".pc"))
    check(o in build_pkgs, "pkg-config module %s (package %s) is not installed by the build stage" % (m, o))

image_bins, image_files, image_env, image_user = set(), set(), {}, None
for word, rest in runtime:
    if word == "COPY" and rest.startswith("--from=build"):
        pattern = rest.split()[1]
        rel = os.path.relpath(os.path.dirname(pattern), "/src")
        d = os.path.join(src, rel)
        image_bins |= {f for f in os.listdir(d) if re.fullmatch(pattern.split("/")[-1].replace("*", ".*"), f)}
        bin_dir = d
    elif word == "COPY":
        image_files.add(rest.split()[1])
    elif word == "ENV":
        k, _, v = rest.partition("=")
        image_env[k] = v
    elif word == "USER":
        image_user = rest
for s in services + ["topics", "client", "replay", "verify"]:
    check("hc-" + s in image_bins, "the image lacks hc-" + s)
ldconfig = {}
for line in subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout.splitlines():
    m = re.match(r"\s*(\S+) \((libc6,x86-64)[^)]*\) => (\S+)", line)
    if m:
        ldconfig.setdefault(m.group(1), m.group(3))
runtime_pkgs = packages(runtime)
needed = set()
for b in image_bins:
    dyn = subprocess.run(["readelf", "-d", os.path.join(bin_dir, b)], capture_output=True, text=True).stdout
    needed |= set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^]]+)\]", dyn))
for lib in sorted(needed):
    o = owner(ldconfig.get(lib, "/nonexistent/" + lib))
    check(o == "libc6" or o in runtime_pkgs,
          "%s (package %s) is needed by the binaries but not installed by the runtime stage" % (lib, o))
print("the runtime stage installs the packages of %s" % ", ".join(sorted(needed)))
uid = int(image_user.split(":")[0]) if image_user and image_user.split(":")[0].isdigit() else None
check(uid is not None and uid != 0, "the image's USER is not a numeric non-root uid: %r" % image_user)
check(image_env.get("HC_HTTP_ADDR") == "0.0.0.0", "the image does not listen beyond its container")


# ---- the services' settings ----
def settings(s):
    out = subprocess.run([os.path.join(bindir, "hc-" + s), "--help"], capture_output=True, text=True).stdout
    known = set(re.findall(r"^\s+(HC_[A-Z0-9_]+)\s", out, re.M))
    required = set(re.findall(r"^\s+(HC_[A-Z0-9_]+)\s+\(required\)", out, re.M))
    return known, required


def check_env(where, s, names):
    known, required = settings(s)
    check(len(known) > 10, "hc-%s --help lists no settings" % s)
    for n in sorted(set(names) - known):
        errors.append("%s sets %s, which hc-%s does not know" % (where, n, s))
    for n in sorted(required - set(names) - set(image_env)):
        errors.append("%s does not set %s, which hc-%s requires" % (where, n, s))


served = open("common/http/server.c").read()
check('"/livez"' in served and '"/readyz"' in served, "the services serve /livez and /readyz")

# ---- docker-compose.yml ----
compose = yaml.safe_load(open("docker-compose.yml"))["services"]
for name, c in compose.items():
    cmd = c.get("command", [])
    if cmd and cmd[0].startswith("hc-"):
        check(cmd[0] in image_bins, "compose's %s runs %s, not in the image" % (name, cmd[0]))
for s in services:
    c = compose.get(s)
    if not check(c is not None and c["command"] == ["hc-" + s], "compose runs hc-%s as %s" % (s, s)):
        continue
    env = c.get("environment", {})
    check_env("compose's " + s, s, env)
    check(str(env.get("HC_HTTP_PORT")) == "8080", "compose's %s listens on its healthcheck's port 8080" % s)
    check(env.get("HC_KAFKA_BROKERS") == "kafka:9092", "compose's %s reaches kafka:9092" % s)
for s in services:
    if s != "gateway":
        url = compose["gateway"]["environment"].get("HC_%s_URL" % s.upper())
        check(url == "http://%s:%s" % (s, compose[s]["environment"]["HC_HTTP_PORT"]),
              "compose's gateway reaches %s at %s" % (s, url))
topics = compose["topics"]["command"]
check(topics[:2] == ["hc-topics", "create"] and topics[3] in image_files, "compose's topics command")

# ---- deploy/k8s ----
k8s = "deploy/k8s"
files = sorted(f for f in os.listdir(k8s) if f.endswith(".yaml"))
kust = yaml.safe_load(open(os.path.join(k8s, "kustomization.yaml")))
check(sorted(kust["resources"]) == sorted(set(files) - {"kustomization.yaml", "secret.example.yaml"}),
      "the kustomization lists every manifest but the secret's example")
objs = {}
for f in files:
    if f == "kustomization.yaml":
        continue
    for o in yaml.safe_load_all(open(os.path.join(k8s, f))):
        key = (o["kind"], o["metadata"]["name"])
        check(key not in objs, "%s %s defined twice" % key)
        objs[key] = o
        check(o["kind"] == "Namespace" or o["metadata"].get("namespace") == "hc",
              "%s %s is in the namespace hc" % key)
secret_keys = set(objs[("Secret", "hc-secrets")]["stringData"])
config_keys = set(objs[("ConfigMap", "hc-config")]["data"])
container_keys = {"name", "image", "command", "args", "ports", "env", "startupProbe", "livenessProbe",
                  "readinessProbe", "resources", "securityContext"}


def check_pod(what, pod):
    sc = pod.get("securityContext", {})
    check(sc.get("runAsNonRoot") is True and sc.get("runAsUser") == uid,
          "%s runs as the image's non-root uid %s" % (what, uid))
    for c in pod["containers"]:
        check(set(c) <= container_keys, "%s: unknown container fields %s" % (what, set(c) - container_keys))
        csc = c.get("securityContext", {})
        check(csc.get("allowPrivilegeEscalation") is False and csc.get("capabilities") == {"drop": ["ALL"]},
              "%s drops every capability and privilege escalation" % what)
        check(c["command"][0] in image_bins, "%s runs %s, not in the image" % (what, c["command"][0]))
        for e in c.get("env", []):
            ref = e.get("valueFrom", {})
            if "secretKeyRef" in ref:
                check(ref["secretKeyRef"]["name"] == "hc-secrets" and ref["secretKeyRef"]["key"] in secret_keys,
                      "%s: %s from an unknown secret key" % (what, e["name"]))
            if "configMapKeyRef" in ref:
                check(ref["configMapKeyRef"]["name"] == "hc-config" and ref["configMapKeyRef"]["key"] in config_keys,
                      "%s: %s from an unknown config key" % (what, e["name"]))


def selects(selector, labels):
    return all(labels.get(k) == v for k, v in selector.items())


job = objs[("Job", "hc-topics")]
check_pod("the topics job", job["spec"]["template"]["spec"])
check(job["spec"]["template"]["spec"]["containers"][0]["args"][2] in image_files, "the topics job's file is in the image")
ports = {}
for s in services:
    wl = objs.get(("StatefulSet", s)) or objs.get(("Deployment", s))
    if not check(wl is not None, "no workload runs %s" % s):
        continue
    labels = wl["spec"]["template"]["metadata"]["labels"]
    check(selects(wl["spec"]["selector"]["matchLabels"], labels), "%s's selector selects its pods" % s)
    pod = wl["spec"]["template"]["spec"]
    check_pod(s, pod)
    (c,) = pod["containers"]
    check(c["command"] == ["hc-" + s], "%s runs hc-%s" % (s, s))
    env = {e["name"]: e for e in c["env"]}
    check_env("the manifest of " + s, s, env)
    port = int(env["HC_HTTP_PORT"]["value"])
    check({p["name"]: p["containerPort"] for p in c["ports"]}.get("http") == port,
          "%s's port named http is its HC_HTTP_PORT" % s)
    for probe, path in (("startupProbe", "/livez"), ("livenessProbe", "/livez"), ("readinessProbe", "/readyz")):
        check(c.get(probe, {}).get("httpGet") == {"path": path, "port": "http"}, "%s's %s asks %s" % (s, probe, path))
    inst = env.get("HC_KAFKA_INSTANCE_ID")
    if inst is not None:
        check(wl["kind"] == "StatefulSet" and inst.get("valueFrom") == {"fieldRef": {"fieldPath": "metadata.name"}},
              "%s's static instance id is its StatefulSet pod's name" % s)
        gov = objs.get(("Service", wl["spec"].get("serviceName")), {})
        check(gov.get("spec", {}).get("clusterIP") == "None", "%s's StatefulSet has a headless service" % s)
    svc = objs.get(("Service", s))
    if check(svc is not None, "no Service %s" % s):
        check(selects(svc["spec"]["selector"], labels), "Service %s selects its pods" % s)
        (p,) = svc["spec"]["ports"]
        check(p["targetPort"] == "http", "Service %s targets the http port" % s)
        ports[s] = p["port"]
    pdb = objs.get(("PodDisruptionBudget", s))
    check(pdb is not None and selects(pdb["spec"]["selector"]["matchLabels"], labels), "%s has a disruption budget" % s)
    if s != "gateway":
        np = objs.get(("NetworkPolicy", s))
        if check(np is not None, "no NetworkPolicy admits only the gateway to %s" % s):
            check(selects(np["spec"]["podSelector"]["matchLabels"], labels)
                  and np["spec"]["policyTypes"] == ["Ingress"]
                  and [f for rule in np["spec"]["ingress"] for f in rule["from"]]
                  == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "gateway"}}}],
                  "%s admits only the gateway" % s)
gw = {e["name"]: e.get("value") for e in objs[("Deployment", "gateway")]["spec"]["template"]["spec"]["containers"][0]["env"]}
for s in services:
    if s != "gateway":
        check(gw.get("HC_%s_URL" % s.upper()) == "http://%s:%s" % (s, ports.get(s)),
              "the gateway reaches %s at its Service" % s)
print("docker-compose.yml: %d services; deploy/k8s: %d objects in %d files" % (len(compose), len(objs), len(files)))
for e in errors:
    print("FAIL:", e)
sys.exit(1 if errors else 0)
PY
rm -rf "$HC_TEST_TMP/image" # the image's build tree (its output is above when it failed)
[ "$rc" = 0 ] || fail "the deployment files"
