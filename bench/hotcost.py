# The hot programs' kernel run time per call (bench/hookcost.sh --hot): loopback TCP connects,
# fork+execs and opens, each by a worker that is not governed and by one that is (moved into
# the profile's cgroup first), each workload in its own worker process. Prints, per phase,
# every program that ran: calls and run_time_ns / run_cnt (kernel.bpf_stats_enabled).
#   hotcost.py CGROUP_DIR WORKDIR CONNECTS EXECS OPENS
import ctypes, os, socket, struct, sys, threading, time

libc = ctypes.CDLL(None, use_errno=True)


def bpf(cmd, attr):
    buf = ctypes.create_string_buffer(attr, 128)
    r = libc.syscall(321, cmd, buf, 128)
    if r < 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return r, buf.raw


def stats():
    out, pid = {}, 0
    while True:
        try:
            _, raw = bpf(11, struct.pack('=II', pid, 0))  # BPF_PROG_GET_NEXT_ID
        except OSError:
            return out
        pid = struct.unpack_from('=I', raw, 4)[0]
        try:
            fd, _ = bpf(13, struct.pack('=I', pid))  # BPF_PROG_GET_FD_BY_ID
        except OSError:
            continue
        info = ctypes.create_string_buffer(256)
        bpf(15, struct.pack('=IIQ', fd, 256, ctypes.addressof(info)))
        r = info.raw
        name = r[64:80].split(b'\0')[0].decode()
        out["%s#%d" % (name, pid)] = (struct.unpack_from('=Q', r, 200)[0], struct.unpack_from('=Q', r, 192)[0])
        os.close(fd)


cg, work, n_conn, n_exec, n_open = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(512)
port = listener.getsockname()[1]


def serve():
    while True:
        c, _ = listener.accept()
        c.close()


threading.Thread(target=serve, daemon=True).start()
target = os.path.join(work, "allowed")
open(target, "w").write("x")


def connects():
    for _ in range(n_conn):
        s = socket.socket()
        s.connect(("127.0.0.1", port))
        s.close()


def execs():
    for _ in range(n_exec):
        pid = os.posix_spawn("/usr/bin/true", ["true"], {})
        os.waitpid(pid, 0)


def opens():
    for _ in range(n_open):
        os.close(os.open(target, os.O_RDONLY))


def phase(name, fn, governed, count):
    r, w = os.pipe()
    before = stats()
    pid = os.fork()
    if pid == 0:
        if governed:
            with open(os.path.join(cg, "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))
        t = time.monotonic()
        fn()
        os.write(w, struct.pack('=d', time.monotonic() - t))
        os._exit(0)
    os.waitpid(pid, 0)
    wall = struct.unpack('=d', os.read(r, 8))[0]
    os.close(r)
    os.close(w)
    after = stats()
    print("phase %s: %d ops, %.1f us wall per op" % (name, count, wall / count * 1e6))
    for k in sorted(after, key=lambda k: -(after[k][1] - before.get(k, (0, 0))[1])):
        c = after[k][0] - before.get(k, (0, 0))[0]
        t = after[k][1] - before.get(k, (0, 0))[1]
        if c:
            print("  %-28s calls=%7d ns/call=%8.0f" % (k.split('#')[0], c, t / c))
    sys.stdout.flush()


for governed in (False, True):
    tag = "governed" if governed else "ungoverned"
    phase("connect-" + tag, connects, governed, n_conn)
    phase("exec-" + tag, execs, governed, n_exec)
    phase("open-" + tag, opens, governed, n_open)
