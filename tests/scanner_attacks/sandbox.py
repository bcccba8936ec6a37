"""Runs a real model loader on one file in a throwaway child process and
reports what it did, as seen by a Python audit hook (PEP 578).

The parent imports the loaders once (torch takes seconds) and forks a child
per load: the child moves to an empty temporary directory, installs the
hook, loads with a time limit and sends its record back through a pipe.
The hook records every `pickle.find_class` (module, name) and every
command or code execution (os.system, subprocess.Popen, os.exec*,
os.posix_spawn, os.spawn*, exec/compile of code that is not a module
file, noted only), then refuses the command by raising: the payload is proved to
have been reached with its arguments, and nothing it names really runs.
Network connections are refused the same way, and so is changing a file
outside the child's working directory (where tempfile points too).

Loaders (what each covered library does with a file):
  pickle  pickle.load(f)
  torch   torch.load(f) (torch 1.13: weights_only=False)
  numpy   numpy.load(f, allow_pickle=True), every member of an .npz read
  joblib  joblib.load(f)
"""
import json
import os
import select
import shutil
import signal
import sys
import tempfile
import time

LOADERS = ("pickle", "torch", "numpy", "joblib")

# Audit events that mean the payload got to run something.
EXEC_EVENTS = {"os.system", "subprocess.Popen", "os.exec", "os.posix_spawn", "os.spawn", "os.startfile",
               "pty.spawn", "ctypes.dlopen", "os.fork", "os.forkpty"}
BLOCK_EVENTS = EXEC_EVENTS | {"socket.connect", "socket.bind", "socket.sendto", "webbrowser.open"}
# Changing files is refused outside the child's own working directory.
WRITE_EVENTS = {"open", "os.remove", "os.rename", "os.rmdir", "shutil.rmtree", "os.truncate", "os.chmod",
                "os.chown", "os.symlink", "os.link", "os.mkdir", "shutil.move", "shutil.copyfile"}


def _import_loaders():
    import pickle  # noqa: F401
    import numpy  # noqa: F401
    try:
        import joblib  # noqa: F401
    except ImportError:
        pass
    try:
        import torch  # noqa: F401
    except ImportError:
        pass


class Blocked(BaseException):
    """Raised by the hook: derives from BaseException so that loaders
    catching Exception (uuid, joblib) cannot swallow it."""


def _child(loader, path, wfd, timeout, work):
    record = {"find_class": [], "exec": [], "code": [], "writes": [], "error": None}

    def send():
        data = json.dumps(record).encode()
        while data:
            data = data[os.write(wfd, data):]

    def hook(event, args):
        if event == "pickle.find_class":
            record["find_class"].append([str(args[0]), str(args[1])])
        elif event == "exec":
            # Module imports exec their own files; code from anywhere else
            # is noted (namedtuple and friends do it too, so it is not a payload).
            filename = getattr(args[0], "co_filename", None)
            if not (isinstance(filename, str) and os.path.isfile(filename)):
                record["code"].append(repr(args)[:200])
        elif event in BLOCK_EVENTS:
            record["exec"].append([event, repr(args)[:200]])
            raise Blocked(event)
        elif event in WRITE_EVENTS and not inside_work(event, args):
            record["writes"].append([event, repr(args)[:200]])
            raise Blocked(event)

    def inside_work(event, args):
        if event == "open":
            path, mode, flags = args
            if not isinstance(path, (str, bytes)) or (mode is not None and not set(str(mode)) & set("wax+")) \
                    or (mode is None and not flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC)):
                return True  # reading, or an fd
        elif event in ("os.symlink", "os.link"):
            path = args[1]  # (target, new link): the link is what is written
        else:
            path = args[0]
        if not isinstance(path, (str, bytes, os.PathLike)):
            return True
        path = os.fsdecode(path)
        if event in ("os.symlink", "os.link", "os.chown", "os.chmod") and os.path.islink(path):
            # the link itself (tarfile's lchown/chmod of a link it made), not what it names
            path = os.path.join(os.path.dirname(path), "")
        real = os.path.realpath(path)
        return real in (os.devnull, work) or real.startswith(work + os.sep)

    def on_alarm(signum, frame):
        record["error"] = f"timed out after {timeout} s"
        send()
        os._exit(3)

    try:
        os.chdir(work)
        tempfile.tempdir = work  # torch extracts tar members into a temporary directory
        signal.signal(signal.SIGALRM, on_alarm)
        signal.alarm(timeout)
        sys.addaudithook(hook)
        if loader == "pickle":
            import pickle
            with open(path, "rb") as f:
                pickle.load(f)
        elif loader == "torch":
            import torch
            torch.load(path)
        elif loader == "numpy":
            import numpy
            r = numpy.load(path, allow_pickle=True)
            if isinstance(r, numpy.lib.npyio.NpzFile):
                with r:
                    for k in r.files:
                        r[k]
        elif loader == "joblib":
            import joblib
            joblib.load(path)
        else:
            raise ValueError(f"unknown loader {loader}")
    except BaseException as e:  # noqa: B902 - the record says what stopped the load
        record["error"] = f"{type(e).__name__}: {e}"[:300]
    signal.alarm(0)
    send()
    os._exit(0)


class Pool:
    """Forks a child per load from a parent that has the loaders imported."""

    def __init__(self):
        _import_loaders()

    def load(self, loader, path, timeout=10):
        """Returns {'find_class': [[module, name]...], 'exec': [[event, args]...],
        'writes': [[event, args]...], 'code': [repr...], 'error': str|None} for
        one load of path with loader."""
        path = os.path.abspath(path)
        work = os.path.realpath(tempfile.mkdtemp(prefix="ltrack-load-"))
        r, w = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            try:
                devnull = os.open(os.devnull, os.O_RDWR)
                os.dup2(devnull, 0)
                os.dup2(devnull, 1)
                os.dup2(devnull, 2)
                _child(loader, path, w, timeout, work)
            finally:
                os._exit(4)
        os.close(w)
        chunks, deadline = [], time.monotonic() + timeout + 5
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([r], [], [], left)[0]:
                os.kill(pid, signal.SIGKILL)
                chunks = [json.dumps({"find_class": [], "exec": [], "writes": [], "error": "killed: no answer"}).encode()]
                break
            data = os.read(r, 65536)
            if not data:
                break
            chunks.append(data)
        os.close(r)
        _, status = os.waitpid(pid, 0)
        shutil.rmtree(work, ignore_errors=True)
        try:
            return json.loads(b"".join(chunks))
        except ValueError:
            return {"find_class": [], "exec": [], "writes": [], "error": f"child died (status {status}) without a record"}
