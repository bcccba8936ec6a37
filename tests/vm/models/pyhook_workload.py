"""A Python process that receives pickles over a loopback socket and loads
them from memory (tests/vm/python_hook_test.cpp). One JSON line per step.
  pyhook_workload.py SITE_DIR MALICIOUS_HEX BENIGN_HEX REPORT_SOCKET CONTROL_SOCKET
SITE_DIR holds the shipped ltrack-pyhook.pth: site.addsitedir processes it as
Debian's python3 processes /usr/lib/python3/dist-packages at start-up."""
import json
import os
import pickle
import site
import socket
import struct
import subprocess
import sys
import threading

site_dir, malicious_hex, benign_hex, report_path, control_path = sys.argv[1:6]
site.addsitedir(site_dir)  # runs "import ltrack_pyhook" from the .pth


def step(name, **kw):
    print(json.dumps(dict(step=name, pid=os.getpid(), **kw)), flush=True)


def over_loopback(payload):
    """The bytes as a download would bring them: received into memory."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)

    def send():
        c, _ = srv.accept()
        c.sendall(payload)
        c.close()
    threading.Thread(target=send).start()
    cli = socket.create_connection(srv.getsockname())
    data = b""
    while chunk := cli.recv(65536):
        data += chunk
    cli.close()
    srv.close()
    return data


hooked = "ltrack_pyhook" in sys.modules
step("hook", imported=hooked)
try:
    obj = pickle.loads(over_loopback(bytes.fromhex(malicious_hex)))
    step("evil", loaded=True, result=repr(obj))
except Exception as e:  # RefusedByLtrack is a PermissionError
    step("evil", loaded=False, error=type(e).__name__, message=str(e))
step("benign", value=pickle.loads(over_loopback(bytes.fromhex(benign_hex))))
exec(compile("downloaded = 6 * 7", "<downloaded>", "exec"))
step("exec", value=downloaded)  # noqa: F821
step("subprocess", rc=subprocess.run(["/bin/true"]).returncode)

# The control socket stays refused to a governed process (lsm/self.bpf.c).
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect(control_path)
    step("control", errno=0)
except OSError as e:
    step("control", errno=e.errno)
s.close()

# A forged report: sent on a connection of its own, with SCM_CREDENTIALS
# naming pid 1 (root may pass another process's pid there) and a global the
# test looks for. ltrackd must name the real sender.
forged = "unsent"
try:
    r = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    r.connect(report_path)
    msg = b"find_class\0subprocess\0forged_by_pid_1"
    try:
        r.sendmsg([msg], [(socket.SOL_SOCKET, socket.SCM_CREDENTIALS, struct.pack("iII", 1, 0, 0))])
        forged = "as pid 1"
    except OSError:
        r.send(msg)
        forged = "plain"
    r.settimeout(10)
    answer = r.recv(64).decode()
    r.close()
except OSError as e:
    answer = "error %s" % e
step("forged", sent=forged, answer=answer)
