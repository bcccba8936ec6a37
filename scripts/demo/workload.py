"""The demonstration workload: what a compromised model-serving worker might
try. Run governed by policies/demo.toml; prints what the kernel answered."""
import errno
import os
import pickle
import socket
import subprocess
import sys

models = sys.argv[1]


def attempt(what, fn):
    try:
        fn()
        print(f"  allowed : {what}")
    except OSError as e:
        name = errno.errorcode.get(e.errno, str(e.errno))
        print(f"  {'DENIED' if e.errno == errno.EPERM else 'failed'}  : {what} ({name})")


def load(path):
    with open(path, "rb") as f:
        pickle.load(f)


def connect(addr, port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(2)
        s.connect((addr, port))


print(f"workload pid {os.getpid()} (python {sys.version.split()[0]}):")
attempt(f"load the benign model {models}/benign.pkl", lambda: load(f"{models}/benign.pkl"))
attempt("read /etc/shadow", lambda: open("/etc/shadow", "rb").close())
attempt("read a pickle outside the model directory (/tmp/ltrack-demo/stray.pkl)",
        lambda: open("/tmp/ltrack-demo/stray.pkl", "rb").close())
attempt("run /bin/sh -c id", lambda: subprocess.run(["/bin/sh", "-c", "id"], check=False))
attempt("connect to 127.0.0.1:9 (not an allowed port)", lambda: connect("127.0.0.1", 9))
