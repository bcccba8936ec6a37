#!/usr/bin/python3
"""Differential harness: the scanner against the real loaders on mutated
files. Bounded by LTRACK_DIFF_SECONDS (default 60) and LTRACK_DIFF_MAX
candidates (default 300, 0 = no limit). The seed LTRACK_DIFF_SEED defaults
to a fixed value, so CI explores the same candidates every run (a slower
host fewer of them); give another seed, or `random`, to search elsewhere.

Seeds are the attack corpus (make_attacks.py: every technique the scanner
already catches, plus the benign files of every format, up to 256 KiB each). A small
structure-aware mutator (bytes, pickle opcodes, zip and tar members,
compression, npy headers) derives candidates; for each, `ltrackctl scan
--json` runs first, and when it says safe or suspicious the loaders that
would read that kind of file run in a sandbox (sandbox.py). A finding is a
scan that says safe while a loader reached a command or resolved a global
outside the scanner's allowlist, or one whose import list lacks a global a
loader resolved (oracle.findings). Each finding is saved into the
regressions directory, which is replayed first on every run, and fails
the test. A saved finding the scanner does not catch yet can be listed in
<regressions>/known_gaps.json ({"file": "reason"}): it is reported as XFAIL.

  differential.py --ltrackctl BIN --classify BIN --regressions DIR CORPUS_DIR
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import random
import struct
import sys
import tarfile
import tempfile
import time
import zipfile
import warnings
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "unit", "scanner"))
import oracle  # noqa: E402
from archive_builders import tar_of, zip_of  # noqa: E402
import sandbox  # noqa: E402

PAYLOAD_OPS = b"cposix\nsystem\n(S'true'\ntR0"
# Opcode fragments a mutation splices in: imports (allowed, unknown,
# dangerous), framing, the joblib wrapper, stack shufflers.
FRAGMENTS = [PAYLOAD_OPS, b"ccollections\nOrderedDict\n)R", b"\x95" + struct.pack("<Q", 16), b"N", b"0", b"(", b"t",
             b"\x8c\x13joblib.numpy_pickle\x8c\x11NumpyArrayWrapper\x93", b"cuuid\n_get_command_stdout\n",
             b"\x80\x04", b".", b"\x8a\x0b", b"I1001\n.", b"S'x'\n", b"\x93", b"b", b"R", b"\x81", b"}"]


def loaders_for(data):
    """The loaders that would read this content (sandbox.LOADERS)."""
    if data[:2] == b"PK":
        return ["numpy", "torch"]
    if data[:6] == b"\x93NUMPY":
        return ["numpy"]
    if len(data) >= 512 and data[257:262] == b"ustar":
        return ["torch", "pickle"]
    return ["pickle", "joblib", "torch"]


def zip_members(data):
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return [(i.filename, z.read(i)) for i in z.infolist()]
    except Exception:
        return None


def tar_members(data):
    try:
        with tarfile.open(fileobj=io.BytesIO(data)) as t:
            return [(m.name, t.extractfile(m).read()) for m in t.getmembers() if m.isfile()]
    except Exception:
        return None


class Mutator:
    def __init__(self, rng, seeds):
        self.rng, self.seeds = rng, seeds

    def other(self):
        return self.rng.choice(self.seeds)

    def mutate(self, data):
        r = self.rng
        ops = [self.bytes_flip, self.fragment, self.splice, self.truncate, self.compress, self.npy_header]
        if data[:2] == b"PK":
            ops += [self.zip_rename, self.zip_replace, self.zip_add, self.zip_concat] * 2
        if tar_members(data) is not None:
            ops += [self.tar_mutate] * 2
        for _ in range(r.choice([1, 1, 1, 2, 3])):
            data = r.choice(ops)(data) or data
        return data

    def bytes_flip(self, d):
        d = bytearray(d)
        for _ in range(self.rng.randint(1, 4)):
            if d:
                d[self.rng.randrange(len(d))] = self.rng.randrange(256)
        return bytes(d)

    def fragment(self, d):
        i = self.rng.randint(0, len(d))
        return d[:i] + self.rng.choice(FRAGMENTS) + d[i:]

    def splice(self, d):
        o = self.other()
        return d[:self.rng.randint(0, len(d))] + o[self.rng.randint(0, len(o)):]

    def truncate(self, d):
        return d[:self.rng.randint(1, max(1, len(d)))]

    def compress(self, d):
        return self.rng.choice([zlib.compress, gzip.compress])(d)

    def npy_header(self, d):
        for a, b in [(b"'|O'", b"'object'"), (b"'<f8'", b"'float64'"), (b"'<f4'", b"'O'"), (b"False", b"True")]:
            if a in d and self.rng.random() < 0.5:
                return d.replace(a, b, 1)
        return None

    def zip_rename(self, d):
        m = zip_members(d)
        if not m:
            return None
        i = self.rng.randrange(len(m))
        name = m[i][0]
        name = self.rng.choice([name.upper(), name + "/", name.replace(".npy", ""), name.rsplit("/", 1)[0] + "/data.pkl",
                                name.replace("data.pkl", "data.PKL"), "./" + name])
        m[i] = (name, m[i][1])
        return zip_of(m, self.rng.choice([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))

    def zip_replace(self, d):
        m = zip_members(d)
        if not m:
            return None
        i = self.rng.randrange(len(m))
        m[i] = (m[i][0], self.mutate_inner(m[i][1]))
        return zip_of(m)

    def mutate_inner(self, body):
        return self.rng.choice([self.other, lambda: self.fragment(body), lambda: self.bytes_flip(body)])()

    def zip_add(self, d):
        m = zip_members(d)
        if m is None:
            return None
        m.insert(self.rng.randint(0, len(m)), (self.rng.choice(["data.pkl", "x.npy", "archive/data.pkl", "a/"]), self.other()))
        return zip_of(m)

    def zip_concat(self, d):
        o = self.other()
        return o + d if self.rng.random() < 0.5 else d + o

    def tar_mutate(self, d):
        m = tar_members(d)
        if not m:
            return None
        i = self.rng.randrange(len(m))
        if self.rng.random() < 0.5:
            m.append((m[i][0], self.mutate_inner(m[i][1])))
        else:
            m[i] = (m[i][0], self.mutate_inner(m[i][1]))
        return tar_of(m, fmt=tarfile.GNU_FORMAT)


def check(path, data, scanner, pool):
    """(scan, findings) for one candidate file."""
    scan = scanner.scan(path, timeout=20)
    if scan["verdict"] == "timeout":
        return scan, ["scan did not finish within 20 s"]
    if scan["verdict"] not in ("safe", "suspicious"):
        return scan, []
    loads = {ld: pool.load(ld, path, timeout=10) for ld in loaders_for(data)}
    return scan, oracle.findings(scan, loads, scanner)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ltrackctl", required=True)
    ap.add_argument("--classify", required=True)
    ap.add_argument("--regressions", required=True)
    ap.add_argument("corpus")
    a = ap.parse_args()
    warnings.simplefilter("ignore")  # zipfile's duplicate-name warnings are what the mutator is for
    seconds = float(os.environ.get("LTRACK_DIFF_SECONDS", "60"))
    limit = int(os.environ.get("LTRACK_DIFF_MAX", "300"))
    seed = os.environ.get("LTRACK_DIFF_SEED", "23")
    seed = int(time.time_ns() % 1000000007) if seed == "random" else int(seed)
    print(f"differential: LTRACK_DIFF_SEED={seed} LTRACK_DIFF_SECONDS={seconds:g} LTRACK_DIFF_MAX={limit}")
    rng = random.Random(seed)
    scanner = oracle.Scanner(a.ltrackctl, a.classify)
    pool = sandbox.Pool()
    failures = 0

    # 1. Every saved finding, every run.
    known = {}
    if os.path.exists(os.path.join(a.regressions, "known_gaps.json")):
        with open(os.path.join(a.regressions, "known_gaps.json")) as f:
            known = json.load(f)
    regs = sorted(n for n in os.listdir(a.regressions) if n.endswith(".bin")) if os.path.isdir(a.regressions) else []
    for name in regs:
        path = os.path.join(a.regressions, name)
        with open(path, "rb") as f:
            data = f.read()
        scan, problems = check(path, data, scanner, pool)
        status = ("XFAIL" if name in known else "FAIL ") if problems else "ok   "
        print(f"{status} regression {name}: scan {scan['verdict']}")
        for p in problems:
            print(f"      {p}")
        if problems and name in known:
            print(f"      known gap: {known[name]}")
        elif name in known:
            print("      now caught: remove it from known_gaps.json")
        failures += bool(problems) and name not in known

    # 2. Seeds: the corpus files the scanner already gets right.
    with open(os.path.join(a.corpus, "manifest.json")) as f:
        manifest = json.load(f)
    seeds = []
    for e in manifest:
        path = os.path.join(a.corpus, e["file"])
        if e.get("xfail") or e.get("max_seconds") or os.path.getsize(path) > (256 << 10):
            continue  # known gaps would be found again and again; big files cost more than they vary
        with open(path, "rb") as f:
            seeds.append(f.read())
    print(f"differential: {len(regs)} regression files, {len(seeds)} seeds")

    # 3. Mutants until the time is up.
    mut = Mutator(rng, seeds)
    found_dir = a.regressions
    tried = loaded = 0
    deadline = time.monotonic() + seconds
    with tempfile.TemporaryDirectory(prefix="ltrack-diff-") as tmp:
        path = os.path.join(tmp, "candidate")
        while time.monotonic() < deadline and (limit == 0 or tried < limit):
            data = mut.mutate(rng.choice(seeds))
            if not data or len(data) > (8 << 20):
                continue
            with open(path, "wb") as f:
                f.write(data)
            tried += 1
            scan, problems = check(path, data, scanner, pool)
            loaded += scan["verdict"] in ("safe", "suspicious")
            if problems:
                name = "diff-" + hashlib.sha256(data).hexdigest()[:16] + ".bin"
                if name in known:
                    print(f"XFAIL found again: {name} (known gap)")
                    continue
                failures += 1
                os.makedirs(found_dir, exist_ok=True)
                with open(os.path.join(found_dir, name), "wb") as f:
                    f.write(data)
                print(f"FAIL  new finding saved as {os.path.join(found_dir, name)} (scan {scan['verdict']})")
                for p in problems:
                    print(f"      {p}")
    print(f"differential: {tried} candidates, {loaded} loaded by the real loaders, {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
