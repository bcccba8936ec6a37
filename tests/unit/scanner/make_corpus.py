#!/usr/bin/python3
"""Writes the scanner's test corpus into the directory given as argv[1].

Run by the GoogleTest fixture with Debian's /usr/bin/python3 (numpy,
joblib and torch come from Debian packages). Every file is built here, so
the tests never depend on downloaded models. Hand-assembled pickles spell
out the opcodes the tricks need; real libraries produce the rest.
"""
import collections
import io
import json
import os
import pickle
import struct
import sys
import tarfile
import zipfile
import zlib

import numpy as np

out = sys.argv[1]
if os.path.exists(os.path.join(out, "COMPLETE")):
    os.remove(os.path.join(out, "COMPLETE"))
os.makedirs(out, exist_ok=True)


def put(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


class Evil:
    """Unpickling this runs os.system (pickled as posix.system on Linux)."""

    def __reduce__(self):
        return (os.system, ("echo pwned",))


# ---- benign pickles, every protocol ---------------------------------------
benign = {
    "weights": [1.0, 2.5, -3.0],
    "name": "model",
    "shape": (3, 4),
    "blob": b"\x00\x01raw",
    "tags": {"a", "b"},
    "layers": collections.OrderedDict([("fc1", 1), ("fc2", 2)]),
    "big": 2**80,
}
for proto in range(6):
    put(f"benign_p{proto}.pkl", pickle.dumps(benign, protocol=proto))

put("evil_reduce.pkl", pickle.dumps({"x": Evil()}, protocol=4))
put("evil_reduce_p0.pkl", pickle.dumps(Evil(), protocol=0))


# ---- one malicious pickle per dangerous import (hand-assembled) ----------
def call_global(module, name, proto=2):
    """GLOBAL module.name called with one string argument."""
    return (b"\x80" + bytes([proto]) + b"c" + module.encode() + b"\n" + name.encode() + b"\n"
            + b"X\x02\x00\x00\x00ls\x85R.")


dangerous = [
    ("os", "system"), ("posix", "system"), ("nt", "system"), ("subprocess", "Popen"),
    ("subprocess", "check_output"), ("builtins", "eval"), ("builtins", "exec"),
    ("builtins", "compile"), ("builtins", "__import__"), ("builtins", "getattr"),
    ("builtins", "open"), ("__builtin__", "eval"), ("__builtin__", "execfile"),
    ("socket", "create_connection"), ("runpy", "run_path"), ("pty", "spawn"),
    ("shutil", "rmtree"), ("importlib", "import_module"), ("importlib.util", "spec_from_file_location"),
    ("marshal", "loads"), ("ctypes", "CDLL"), ("sys", "exit"), ("code", "InteractiveInterpreter"),
    ("pickle", "loads"), ("_pickle", "loads"), ("webbrowser", "open"), ("os.path", "join"),
    ("multiprocessing.util", "spawnv_passfds"), ("torch.hub", "load"), ("numpy.load", ""),
    ("operator", "attrgetter"), ("timeit", "timeit"),
]
with open(os.path.join(out, "dangerous.txt"), "w") as listing:
    for i, (module, name) in enumerate(dangerous):
        if module == "numpy.load":
            module, name = "numpy", "load"
        put(f"danger_{i}.pkl", call_global(module, name))
        listing.write(f"danger_{i}.pkl {module} {name}\n")

# An import outside both lists: suspicious, not unsafe.
put("unknown_import.pkl", call_global("mypackage.layers", "CustomLayer"))


# ---- memo tricks ---------------------------------------------------------
def sbu(s):  # SHORT_BINUNICODE
    b = s.encode()
    return b"\x8c" + bytes([len(b)]) + b


# protocol 4: strings memoized (MEMOIZE), popped, fetched back for STACK_GLOBAL
put("memo_stack_global.pkl",
    b"\x80\x04" + sbu("os") + b"\x94" + sbu("system") + b"\x94" + b"00"
    + b"h\x00h\x01\x93" + sbu("id") + b"\x85R.")
# LONG_BINPUT / LONG_BINGET with sparse keys, module fetched twice
put("memo_long.pkl",
    b"\x80\x04" + sbu("subprocess") + b"r\x10\x27\x00\x00" + b"0" + sbu("getoutput")
    + b"r\x00\x00\x01\x00" + b"0" + b"j\x10\x27\x00\x00j\x00\x00\x01\x00\x93" + sbu("id") + b"\x85R.")
# protocol 0 strings with escapes, PUT/GET by text keys
put("memo_proto0_escape.pkl",
    b"S'o\\x73'\np7\n0S'sys\\164em'\np8\n0g7\ng8\n\x93(S'id'\ntR.")
# raw-unicode-escape hides the module name
put("memo_unicode_escape.pkl", b"\x80\x04V\\u006fs\nVsystem\n\x93(S'id'\ntR.")
# dotted name reaching through an allowed callable (protocol 4 resolves it)
put("dotted_globals.pkl",
    b"\x80\x04" + sbu("collections") + sbu("OrderedDict.__init__.__globals__") + b"\x93.")
# STACK_GLOBAL of a memoized benign pair is still safe
put("memo_benign.pkl",
    b"\x80\x04" + sbu("collections") + b"\x94" + sbu("OrderedDict") + b"\x94" + b"\x93)R.")
# INST (protocol 0 class instantiation)
put("inst_os.pkl", b"(S'id'\nios\nsystem\n.")
# EXT code from the copyreg registry
put("ext_code.pkl", b"\x80\x02\x82\x07)R.")


# ---- numpy ---------------------------------------------------------------
def npy_bytes(arr, allow_pickle=False):
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=allow_pickle)
    return buf.getvalue()


float_npy = npy_bytes(np.arange(12, dtype=np.float32).reshape(3, 4))
put("float.npy", float_npy)
put("record.npy", npy_bytes(np.zeros(4, dtype=[("a", "<i4"), ("b", "<f8", (2,))])))
put("object_benign.npy", npy_bytes(np.array([1, "two", (3,)], dtype=object), True))
put("object_evil.npy", npy_bytes(np.array([1, Evil()], dtype=object), True))
put("float_truncated.npy", float_npy[:-7])

buf = io.BytesIO()
np.savez(buf, a=np.arange(5), b=np.ones((2, 2)))
put("plain.npz", buf.getvalue())
buf = io.BytesIO()
np.savez_compressed(buf, a=np.arange(1000), b=np.ones((20, 20)))
put("compressed.npz", buf.getvalue())
buf = io.BytesIO()
np.savez(buf, a=np.arange(5), o=np.array([Evil()], dtype=object))
put("object_evil.npz", buf.getvalue())

# ---- joblib --------------------------------------------------------------
try:
    import joblib

    obj = {"coef": np.arange(10, dtype=np.float64), "labels": np.array(["a", "bb"]),
           "meta": {"n": 3}, "m": np.ones((3, 3), dtype=np.int16)}
    joblib.dump(obj, os.path.join(out, "model.joblib"))
    joblib.dump(obj, os.path.join(out, "model_zlib.joblib"), compress=("zlib", 3))
    joblib.dump(obj, os.path.join(out, "model_gzip.joblib"), compress=("gzip", 3))
    joblib.dump({"a": np.arange(3), "evil": Evil()}, os.path.join(out, "evil.joblib"))
    joblib.dump({"a": np.arange(3), "o": np.array([1, Evil()], dtype=object)},
                os.path.join(out, "evil_objarray.joblib"))
    joblib.dump({"a": np.arange(3), "o": np.array([1, "x"], dtype=object)},
                os.path.join(out, "objarray.joblib"))
except ImportError:
    pass


# ---- safetensors (hand-built: the format is simple and fully specified) ----
def safetensors(tensors, header_override=None, pad=0, data_extra=b""):
    header, data = {}, b""
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    header["__metadata__"] = {"format": "pt"}
    if header_override is not None:
        header = header_override
    h = json.dumps(header).encode() + b" " * pad
    return struct.pack("<Q", len(h)) + h + data + data_extra


good = {"w": ("F32", [2, 3], np.arange(6, dtype=np.float32).tobytes()),
        "b": ("I64", [3], np.arange(3, dtype=np.int64).tobytes())}
put("good.safetensors", safetensors(good, pad=5))
put("bad_json.safetensors", struct.pack("<Q", 12) + b'{"w": {"dty' + b"x" * 20)
put("bad_overlap.safetensors", safetensors({}, header_override={
    "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
    "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, data_extra=b"\0" * 12))
put("bad_size.safetensors", safetensors({}, header_override={
    "a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, data_extra=b"\0" * 8))
put("bad_dtype.safetensors", safetensors({}, header_override={
    "a": {"dtype": "PYOBJ", "shape": [1], "data_offsets": [0, 8]}}, data_extra=b"\0" * 8))
put("bad_outside.safetensors", safetensors({}, header_override={
    "a": {"dtype": "U8", "shape": [100], "data_offsets": [0, 100]}}, data_extra=b"\0" * 8))
put("bad_length.safetensors", struct.pack("<Q", 1 << 40) + b'{"a": 1}')
put("truncated.safetensors", safetensors(good)[:-5])


# ---- GGUF (hand-built v3) ------------------------------------------------
def gstr(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def gguf(kv_count=None, tensors=1, bad_offset=False):
    kvs = [gstr("general.architecture") + struct.pack("<I", 8) + gstr("llama"),
           gstr("general.alignment") + struct.pack("<I", 4) + struct.pack("<I", 32),
           gstr("tokenizer.ggml.tokens") + struct.pack("<I", 9) + struct.pack("<IQ", 8, 2) + gstr("a") + gstr("b")]
    body = b"GGUF" + struct.pack("<IQQ", 3, tensors, len(kvs) if kv_count is None else kv_count) + b"".join(kvs)
    for i in range(tensors):
        body += gstr(f"t{i}") + struct.pack("<I", 2) + struct.pack("<QQ", 4, 2) + struct.pack("<I", 0)
        body += struct.pack("<Q", (1 << 50) if bad_offset else i * 32)
    body += b"\0" * ((-len(body)) % 32)
    return body + b"\0" * (32 * tensors)


put("model.gguf", gguf())
put("huge_count.gguf", gguf(kv_count=1 << 60))
put("bad_offset.gguf", gguf(bad_offset=True))
put("truncated.gguf", gguf()[:60])


# ---- ONNX (hand-built protobuf ModelProto) --------------------------------
def varint(n):
    b = b""
    while True:
        c = n & 0x7F
        n >>= 7
        b += bytes([c | (0x80 if n else 0)])
        if not n:
            return b


def field(num, payload):
    return varint(num << 3 | 2) + varint(len(payload)) + payload


node = field(1, b"x") + field(2, b"y") + field(4, b"Relu")
graph = field(1, node) + field(2, b"g") + field(11, field(1, b"x")) + field(12, field(1, b"y"))
put("model.onnx", varint(1 << 3) + varint(8) + field(2, b"ltrack-test") + field(7, graph)
    + field(8, varint(2 << 3) + varint(17)))


# ---- archives ------------------------------------------------------------
def zip_of(members, method=zipfile.ZIP_STORED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for name, data in members:
            z.writestr(name, data)
    return buf.getvalue()


def tar_of(members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


evil = pickle.dumps(Evil(), protocol=2)
benign4 = pickle.dumps(benign, protocol=4)
put("nested_evil.zip", zip_of([("readme.txt", b"hello"),
                               ("inner.zip", zip_of([("deep/model.pkl", evil)], zipfile.ZIP_DEFLATED))]))
put("nested_benign.tar", tar_of([("a/weights.npy", float_npy), ("b/inner.zip", zip_of([("m.pkl", benign4)]))]))
put("text_only.zip", zip_of([("readme.txt", b"just text\n")]))
deep = evil
for _ in range(8):
    deep = zip_of([("x.zip", deep)])
put("too_deep.zip", deep)
put("zip_bomb.zip", zip_of([("m.pkl", b"\x80\x04" + b"N0" * (8 << 20) + b"N.")], zipfile.ZIP_DEFLATED))
put("many_entries.zip", zip_of([(f"e{i}.txt", b"") for i in range(300)]))
put("zip_truncated.zip", zip_of([("m.pkl", benign4), ("n.pkl", benign4)])[:-30])

# Pre-1.0 torch tar checkpoint, laid out as torch's legacy loader reads it.
def torch_tar(storage_type, extra_import=None):
    p = lambda o: pickle.dumps(o, protocol=2)
    # (key, location, storage type): the type is a GLOBAL, hand-assembled
    # so that torch itself is not needed.
    record = (b"\x80\x02(X\x02\x00\x00\x00k0X\x03\x00\x00\x00cpuctorch\n"
              + storage_type.encode() + b"\nt.")
    storages = p(1) + record + struct.pack("<q", 3) + b"\0" * 12 + p([])
    tensors = p(1) + p(("t0", "k0", None)) + struct.pack("<i", 1) + b"\0" * 4 + struct.pack("<qq", 3, 1) + struct.pack("<q", 0)
    data = {"weight": 1} if extra_import is None else {"weight": extra_import}
    return tar_of([("sys_info", p({"protocol_version": 1001})), ("pickle", p(data)),
                   ("tensors", tensors), ("storages", storages)])


put("torch_legacy.tar", torch_tar("FloatStorage"))
put("torch_legacy_evil.tar", torch_tar("FloatStorage", Evil()))

# ---- hostile -------------------------------------------------------------
put("huge_len.pkl", b"\x80\x04\x8d" + struct.pack("<Q", 1 << 62) + b"abc")
put("deep_marks.pkl", b"\x80\x02" + b"(" * 200000 + b".")
put("stack_bomb.pkl", b"\x80\x02" + b"N" * 2_000_000 + b".")
put("memo_missing.pkl", b"\x80\x02h\x05.")
put("truncated_p4.pkl", benign4[: len(benign4) // 2])
put("garbage.bin", b"this is not a model, just some text\n" * 10)
put("empty_stack_global.pkl", b"\x80\x04\x93.")
put("bad_proto.pkl", b"\x80\x09N.")

# ---- real torch checkpoints ---------------------------------------------
try:
    import torch

    sd = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2)).state_dict()
    torch.save(sd, os.path.join(out, "torch_benign.pt"))
    torch.save({"state": sd, "hook": Evil()}, os.path.join(out, "torch_evil.pt"))
    torch.save(sd, os.path.join(out, "torch_benign_legacy.pt"), _use_new_zipfile_serialization=False)
    torch.save({"state": sd, "hook": Evil()}, os.path.join(out, "torch_evil_legacy.pt"),
               _use_new_zipfile_serialization=False)
    with open(os.path.join(out, "torch_benign.pt"), "rb") as f:
        raw = f.read()
    put("torch_truncated.pt", raw[: len(raw) // 2])
except ImportError:
    pass

# Written last: a reader can tell a complete corpus from one being written.
put("COMPLETE", b"")
