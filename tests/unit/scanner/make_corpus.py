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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from archive_builders import tar_of, zip_of  # noqa: E402

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
put("garbage.bin", bytes(range(256)) * 4)  # binary, no format (text is data: issue 20)
put("empty_stack_global.pkl", b"\x80\x04\x93.")
put("bad_proto.pkl", b"\x80\x09N.")

# ---- real torch checkpoints ---------------------------------------------
try:
    import torch

    torch.manual_seed(0)  # the same bytes every run (the attack harness mutates them)
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


# ---- issue 23: bytes as every covered loader reads them --------------------
# Each file below is called safe by a scanner that picks one format from
# the first bytes; pickle.load, torch.load, numpy.load(allow_pickle=True)
# or joblib.load runs its payload. (The real-loader proofs live with the
# attack generators; these are the scanner's regression inputs.)
EVIL_OPS = b"cposix\nsystem\n(S'id'\ntR"  # protocol 0: posix.system('id')


def call_ops(module, name):
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n(S'id'\ntR"


# A tar whose first member name is a pickle: tarfile opens it (torch's
# legacy loader would look for its members), pickle.load runs the name.
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
    info = tarfile.TarInfo((EVIL_OPS + b".").decode())
    info.size = 5
    t.addfile(info, io.BytesIO(b"hello"))
put("poly_tar.pkl", buf.getvalue())

# A valid GGUF whose counts are opcodes: 'G' (BINFLOAT) eats "GUF", the
# version and one count byte; the rest of the file is read as opcodes.
def poly_gguf():
    body = b"GGUF" + struct.pack("<I", 3) + b"\x00" + b"N0" * 3 + b"N"  # tensor count (8 bytes)
    body += b"0" + b"N0" * 3 + b"N"  # kv count
    return body

put("poly_gguf.gguf", poly_gguf() + b"0" + EVIL_OPS + b".")


# A NumpyArrayWrapper BUILD in a plain pickle: pickle.load does not read
# array bytes after it, so the "array" is opcodes.
def wrapper_state(shape, dtype_spelling, elsize=-1, align=None, dup_shape=None):
    """NEWOBJ of NumpyArrayWrapper and BUILD of its state dict, protocol 2."""
    def s(x):
        b = x.encode()
        return b"X" + struct.pack("<I", len(b)) + b
    def tup(items):
        return b"(" + b"".join(b"J" + struct.pack("<i", i) for i in items) + b"t"
    dtype = (b"cnumpy\ndtype\n" + s(dtype_spelling) + b"\x89\x88\x87R"
             + b"(K\x03X\x01\x00\x00\x00<NNN" + b"J" + struct.pack("<i", elsize) + b"J\xff\xff\xff\xffK\x00tb")
    state = b"}("
    if dup_shape is not None:
        state += s("shape") + tup(dup_shape)
    state += s("subclass") + b"cnumpy\nndarray\n" + s("shape") + tup(shape) + s("order") + s("C")
    state += s("dtype") + dtype + s("allow_mmap") + b"\x89"
    if align is not None:
        state += s("numpy_array_alignment_bytes") + b"K" + bytes([align])
    state += b"u"
    return b"cjoblib.numpy_pickle\nNumpyArrayWrapper\n)\x81" + state + b"b"


# ... in a plain pickle: 8 "array" bytes that are opcodes
put("wrapper_plain.pkl", b"\x80\x02" + wrapper_state((8,), "u1") + b"0" + EVIL_OPS + b"0N.")
# ... inside a torch zip's data.pkl
put("wrapper_torch.pt", zip_of([("archive/data.pkl", b"\x80\x02" + wrapper_state((8,), "u1") + b"0" + EVIL_OPS + b"0N."),
                                ("archive/version", b"3\n")]))
# joblib reads 'float64' as 8-byte items (not 64): the payload follows one item
put("wrapper_float64.joblib", b"\x80\x02" + wrapper_state((1,), "float64") + b"\0" * 8 + b"0" + EVIL_OPS + b"0N.")
# duplicate keys: Python keeps the last shape (1 item), not the first (1000)
put("wrapper_dupkey.joblib", b"\x80\x02" + wrapper_state((1,), "u1", dup_shape=(1000,)) + b"\0" + b"0" + EVIL_OPS
    + b"0N." + b"\0" * 1000)
# a real joblib layout that is followed exactly stays safe: padding byte, padding, data
put("wrapper_exact.joblib", b"\x80\x02" + wrapper_state((3,), "<i2", align=16) + b"\x02\xff\xff" + b"\1\0\2\0\3\0" + b"0N.")
# FRAME: pickle._Unpickler reads array bytes from the file after the frame,
# and goes on reading opcodes inside the frame
inner = wrapper_state((4,), "u1") + b"0" + EVIL_OPS + b"0N."
put("wrapper_frame.joblib", b"\x80\x04\x95" + struct.pack("<Q", len(inner)) + inner + b"ABCD")

# torch's legacy magic number spelled as protocol-0 LONG text, then the
# protocol version, sys info and a data pickle without PROTO opcodes
MAGIC = 0x1950A86A20F9469CFC6C
put("legacy_magic_long.pt", b"L%dL\n." % MAGIC + b"M\xe9\x03." + b"}." + EVIL_OPS + b"." + b"].")
# ... and as LONG1 with a redundant sign byte
put("legacy_magic_long1.pt", b"\x80\x02\x8a\x0b" + MAGIC.to_bytes(11, "little") + b"." + b"\x80\x02M\xe9\x03."
    + b"\x80\x02}." + EVIL_OPS + b"." + b"\x80\x02].")


def torch_tar_members(storages_list, pickle_data=b"\x80\x02}."):
    p = lambda o: pickle.dumps(o, protocol=2)
    members = [("sys_info", p({"protocol_version": 1001})), ("pickle", pickle_data)]
    tensors = p(0)
    members.append(("tensors", tensors))
    for st in storages_list:
        members.append(("storages", st))
    return members


benign_storages = pickle.dumps(0, protocol=2) + pickle.dumps([], protocol=2)
evil_record = (b"\x80\x02(X\x02\x00\x00\x00k0X\x03\x00\x00\x00cpu" + EVIL_OPS + b"t.")
evil_storages = pickle.dumps(1, protocol=2) + evil_record + struct.pack("<q", 0) + pickle.dumps([], protocol=2)
# two "storages" members: tarfile's getmember takes the last
put("tar_dup_storages.tar", tar_of(torch_tar_members([benign_storages, evil_storages])))


def gnu_sparse_tar(name, data):
    """One old-GNU sparse ('S') member holding data in a single region."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    raw = bytearray(buf.getvalue())
    h = raw[:512]
    h[156:157] = b"S"
    h[386:386 + 24] = b"%011o\0%011o\0" % (0, len(data))  # one sparse region
    h[483:483 + 12] = b"%011o\0" % len(data)  # real size
    h[148:156] = b"        "
    h[148:156] = b"%06o\0 " % sum(h)
    raw[:512] = h
    return bytes(raw)


put("tar_sparse.tar", gnu_sparse_tar("pickle", pickle.dumps(Evil(), protocol=2)))

# miniz finds data.pkl case-insensitively
put("zip_data_upper.pt", zip_of([("archive/data.PKL", evil), ("archive/version", b"3\n")]))


def zip64_locator_zip(benign_members, evil_members):
    """32-bit end record -> a benign directory; zip64 locator -> an evil one."""
    body, cd_a, cd_b = b"", b"", b""
    def local(name, data):
        return (struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0, zlib.crc32(data), len(data), len(data),
                            len(name), 0) + name + data)
    def central(name, data, off):
        return struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 0, 0, 0, zlib.crc32(data), len(data), len(data),
                           len(name), 0, 0, 0, 0, 0, off) + name
    for members, which in ((benign_members, "a"), (evil_members, "b")):
        for name, data in members:
            off = len(body)
            body += local(name.encode(), data)
            if which == "a":
                cd_a += central(name.encode(), data, off)
            else:
                cd_b += central(name.encode(), data, off)
    off_a = len(body)
    off_b = off_a + len(cd_a)
    out = body + cd_a + cd_b
    z64 = len(out)
    out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, len(evil_members), len(evil_members), len(cd_b), off_b)
    out += struct.pack("<IIQI", 0x07064B50, 0, z64, 1)
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(benign_members), len(benign_members), len(cd_a), off_a, 0)
    return out


put("zip64_locator.pt", zip64_locator_zip([("archive/data.pkl", benign4), ("archive/version", b"3\n")],
                                          [("archive/data.pkl", evil), ("archive/version", b"3\n")]))

evil_obj_npy = npy_bytes(np.array([1, Evil()], dtype=object), True)
# two archives back to back: zipfile shifts the second one's offsets by the
# first one's length and reads the second; an unshifted reader, the first
put("zip_concat.npz", zip_of([("a.npy", float_npy)]) + zip_of([("a.npy", evil_obj_npy)]))
# descr 'object' (numpy.dtype('object')) in an .npy
obj_header = "{'descr': 'object', 'fortran_order': False, 'shape': (2,), }"
obj_header += " " * (63 - len(obj_header) % 64) + "\n"
put("npy_descr_object.npy", b"\x93NUMPY\x01\x00" + struct.pack("<H", len(obj_header)) + obj_header.encode()
    + pickle.dumps([1, Evil()], protocol=2))
# an .npz with a data.pkl member is still an .npz to numpy
put("npz_with_datapkl.npz", zip_of([("data.pkl", benign4), ("o.npy", evil_obj_npy)]))
# numpy loads a member whose name ends in "/" like any other
put("npz_dir_member.npz", zip_of([("a.npy", float_npy), ("o.npy/", evil_obj_npy)]))


def hostile_zip(entries=60000):
    """Many directory entries naming one stored member of protocol-0 opcodes."""
    data = b"(" + b"N0" * 20000 + b"l."  # a harmless list, read once
    name = b"m.pkl"
    out = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0, zlib.crc32(data), len(data), len(data),
                      len(name), 0) + name + data
    cd_off = len(out)
    cd = b"".join(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 0, 0, 0, zlib.crc32(data), len(data),
                                len(data), len(b"m%05d.pkl" % i), 0, 0, 0, 0, 0, 0) + b"m%05d.pkl" % i
                  for i in range(entries))
    return out + cd + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF if entries > 0xFFFF else entries,
                                  0xFFFF if entries > 0xFFFF else entries, len(cd), cd_off, 0)


put("hostile_many_entries.zip", hostile_zip())

# Benign files whose first bytes happen to be opcodes: a safetensors header
# length whose low byte is GLOBAL ('c') or INST ('i') sends the raw walk
# through the JSON into the tensor data; it fails there, as the loader does.
newlines = {"w": ("U8", [6], b"\nab\ncd")}  # lines for GLOBAL to read
for op in b"ci":
    base = len(safetensors(newlines)) - 8 - 6
    put(f"opcode_len_{chr(op)}.safetensors", safetensors(newlines, pad=(op - base) % 256 + 256))

try:
    import joblib

    # joblib writes protocol 4 with frames; compressed forms
    joblib.dump({"a": np.arange(100, dtype=np.float64), "s": np.array(["x", "yy"])}, os.path.join(out, "frames.joblib"),
                protocol=4)
    for codec in ("bz2", "lzma", "xz"):
        joblib.dump({"a": np.arange(10), "s": np.array(["x"])}, os.path.join(out, f"model_{codec}.joblib"),
                    compress=(codec, 3))
    # a payload behind the first array, in a bz2 stream
    joblib.dump({"a": np.arange(3), "evil": Evil()}, os.path.join(out, "evil_bz2.joblib"), compress=("bz2", 3))
except ImportError:
    pass

# Issue 20: a Hugging Face-shaped model folder (the VM tests load the same one).
import subprocess  # noqa: E402

subprocess.run([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "vm", "models",
                                             "make_hf_folder.py"), os.path.join(out, "hf")], check=True)

# Written last: a reader can tell a complete corpus from one being written.
put("COMPLETE", b"")
