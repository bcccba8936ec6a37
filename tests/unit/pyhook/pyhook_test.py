#!/usr/bin/python3
"""The generated Python audit hook (python/ltrack_pyhook.py.in):
- its Python port of the scanner's classify_import agrees with the C++ one
  (pyhook_gen --classify) on every list entry and on tricky names;
- against a stand-in ltrackd on a SEQPACKET socket: governed/enforce refuses a
  malicious pickle before its global resolves (the payload never runs),
  audit lets it proceed, ungoverned installs no hook, no ltrackd installs none.
Usage: pyhook_test.py BUILD/python PYHOOK_GEN"""
import os
import pickle
import socket
import time
import subprocess
import sys
import tempfile
import threading

pydir, gen = sys.argv[1], sys.argv[2]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


# ---- one list: the Python port against the scanner ---------------------------
env = dict(os.environ, LTRACK_REPORT_SOCKET="/nonexistent/report.sock")
sys.path.insert(0, pydir)
os.environ["LTRACK_REPORT_SOCKET"] = "/nonexistent/report.sock"
import ltrack_pyhook  # noqa: E402  (no ltrackd: installs nothing)

names = []
for m in ltrack_pyhook._DANGEROUS_MODULES:
    mod, _, name = m.rpartition(".")
    names += [(m, "x"), (m + ".sub", "y"), (mod or m, name or "x"), (m + "x", "y")]
for b in ltrack_pyhook._DANGEROUS_BUILTINS:
    names += [("builtins", b), ("__builtin__", b), ("builtins", b + ".x"), ("builtins", "x" + b)]
names += [("collections", "OrderedDict"), ("collections", "OrderedDict.__init__.__globals__"),
          ("torch._utils", "_rebuild_tensor_v2"), ("numpy", "load"), ("numpy", "loads"),
          ("numpy.lib", "npyio"), ("posix", "system"), ("nt", "system"), ("osx", "y"),
          ("a", "b.os.c"), ("a", "b.__c"), ("functools", "partial"), ("functools", "reduce"),
          ("uuid", "UUID"), ("uuid", "uuid1"), ("torch", "load"), ("torch", "Tensor"),
          # Python 2 names (find_class maps them after the audit event)
          ("cStringIO", "StringIO"), ("StringIO", "open"), ("__builtin__", "intern"),
          ("SimpleHTTPServer", "test"), ("copy_reg", "_reconstructor"), ("Tkinter", "Tk"),
          ("urlparse", "urljoin"), ("UserDict", "UserDict"), ("exceptions", "ValueError")]
import _compat_pickle  # noqa: E402
for m in _compat_pickle.IMPORT_MAPPING:
    names.append((m, "x"))
for (m, n) in _compat_pickle.NAME_MAPPING:
    names.append((m, n))

# ---- the scanner's Python 2 name table is the interpreter's own ---------------
compat = subprocess.run([gen, "--compat"], capture_output=True, text=True, check=True).stdout.splitlines()
imports = {f[1]: f[2] for f in (ln.split("\t") for ln in compat) if f[0] == "import"}
renamed = {(f[1], f[2]): (f[3], f[4]) for f in (ln.split("\t") for ln in compat) if f[0] == "name"}
check(imports == _compat_pickle.IMPORT_MAPPING,
      "scanner/compat_pickle.inc IMPORT_MAPPING differs from %s" % _compat_pickle.__file__)
check(renamed == _compat_pickle.NAME_MAPPING,
      "scanner/compat_pickle.inc NAME_MAPPING differs from %s" % _compat_pickle.__file__)
check(ltrack_pyhook._PY2_IMPORT_MAPPING == _compat_pickle.IMPORT_MAPPING, "the hook's IMPORT_MAPPING")
check(ltrack_pyhook._PY2_NAME_MAPPING == _compat_pickle.NAME_MAPPING, "the hook's NAME_MAPPING")
out = subprocess.run([gen, "--classify"], input="".join("%s\t%s\n" % n for n in names),
                     capture_output=True, text=True, check=True).stdout.split()
check(len(out) == len(names), "pyhook_gen --classify answered every name")
for (mod, name), want in zip(names, out):
    got = "dangerous" if ltrack_pyhook.dangerous(mod, name) else "other"
    check(got == want, "%s.%s: python says %s, the scanner %s" % (mod, name, got, want))



# ---- the client against a stand-in ltrackd -----------------------------------
class Payload:
    def __reduce__(self):
        return (os.system, ("touch " + MARKER,))


tmp = tempfile.mkdtemp()
MARKER = os.path.join(tmp, "payload-ran")
malicious = pickle.dumps(Payload(), protocol=2)
# Protocol 0, a Python 2 name: find_class resolves io.open (writes MARKER2)
# after the audit event names cStringIO.open.
MARKER2 = os.path.join(tmp, "py2-name-wrote")
malicious_py2 = b"ccStringIO\nopen\n(V" + MARKER2.encode() + b"\nVw\ntR."
benign = pickle.dumps({"w": [1.0, 2.0]}, protocol=2)


def serve(path, hello, verdict, seen, close_after_hello=False):
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    srv.bind(path)
    srv.listen(8)

    def loop():
        while True:
            c, _ = srv.accept()
            while True:
                msg = c.recv(4096)
                if not msg:
                    break
                seen.append(msg)
                if msg == b"hello":
                    c.send(hello)
                    if close_after_hello:  # as ltrackd closes a connection idle for 30 s
                        c.close()
                        break
                elif msg.startswith(b"find_class\0"):
                    c.send(verdict)
    threading.Thread(target=loop, daemon=True).start()


CHILD = r"""
import os, pickle, sys
sys.path.insert(0, sys.argv[1])
import ltrack_pyhook
try:
    pickle.loads(bytes.fromhex(sys.argv[2]))
    print("loaded")
except ltrack_pyhook.RefusedByLtrack as e:
    print("refused", e)
print(pickle.loads(bytes.fromhex(sys.argv[3])))
try:
    pickle.loads(bytes.fromhex(sys.argv[4]))
    print("py2 loaded")
except ltrack_pyhook.RefusedByLtrack as e:
    print("py2 refused", e)
exec(compile("1+1", "<in-memory>", "exec"))
"""
for case, hello, verdict, want in [
        ("enforce", b"governed\0enforce", b"refuse", "refused"),
        ("audit", b"governed\0audit", b"proceed", "loaded"),
        # The connection closed after hello (idle): the hook connects again
        # and the find_class is asked and recorded, not lost.
        ("audit-reconnect", b"governed\0audit", b"proceed", "loaded"),
        ("ungoverned", b"ungoverned", b"proceed", "loaded")]:
    path = os.path.join(tmp, case + ".sock")
    seen = []
    serve(path, hello, verdict, seen, close_after_hello=(case == "audit-reconnect"))
    for m in (MARKER, MARKER2):
        if os.path.exists(m):
            os.unlink(m)
    r = subprocess.run([sys.executable, "-c", CHILD, pydir, malicious.hex(), benign.hex(), malicious_py2.hex()],
                       env=dict(os.environ, LTRACK_REPORT_SOCKET=path), capture_output=True, text=True,
                       timeout=60)
    print(case, r.stdout.strip().replace("\n", " | "), r.stderr.strip()[-300:])
    # The last reports (exec needs no reply) may still be on the stand-in's
    # thread when the child has exited: wait for them, not for luck.
    deadline = time.monotonic() + 10
    while (case != "ungoverned" and time.monotonic() < deadline and
           not (b"exec\0<in-memory>" in seen or b"compile\0<in-memory>" in seen)):
        time.sleep(0.01)
    check(r.stdout.startswith(want), case + ": " + want)
    check("{'w': [1.0, 2.0]}" in r.stdout, case + ": the benign pickle loads")
    check(os.path.exists(MARKER) == (want == "loaded"), case + ": the payload ran only when let through")
    check(("py2 " + want) in r.stdout, case + ": the Python 2 name pickle: py2 " + want)
    check(os.path.exists(MARKER2) == (want == "loaded"), case + ": io.open via cStringIO ran only when let through")
    asked = [m for m in seen if m.startswith(b"find_class")]
    if case == "ungoverned":
        check(seen == [b"hello"], "ungoverned: nothing but hello is sent (no hook): %r" % seen)
    else:
        check(asked and asked[0] in (b"find_class\0posix\0system", b"find_class\0os\0system"),
              case + ": the global is asked about: %r" % asked)
        check(b"find_class\0cStringIO\0open" in asked, case + ": cStringIO.open is asked about: %r" % asked)
        check(b"exec\0<in-memory>" in seen or b"compile\0<in-memory>" in seen,
              case + ": in-memory code is reported: %r" % seen)

sys.exit(1 if failures else 0)
