#!/usr/bin/python3
# The python side of tests/vm/model_test.cpp.
#
#   model_tool.py make DIR MARKER
#       writes DIR/malicious.pkl (a pickle whose __reduce__ calls
#       os.system("touch MARKER") when it is loaded) and DIR/benign.pkl
#       (plain data, no imports), protocol 2. Nothing is loaded here.
#       model_test.cpp builds the same bytes itself (a python3 start costs
#       20-60 s in the emulated guest); this is their reference.
#   model_tool.py append-benign PATH
#       appends a second benign pickle after the first one's STOP (the
#       file stays a valid, safe model; pickle.load still reads the first).
#   model_tool.py load PATH...
#       for each PATH: open(PATH, "rb") and pickle.load, exactly as an
#       inference server would, and prints one JSON line
#       {"path": P, "ok": true, "value": repr} or
#       {"path": P, "ok": false, "errno": N, "error": "PermissionError"}.
#       Exit status 0 when every load succeeded, 1 otherwise.
import json
import os
import pickle
import sys


class Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, ("touch " + self.marker,))


def benign():
    return {"name": "benign", "weights": [0.5, 1.5, 2.5], "layers": 3}


def make(directory, marker):
    with open(os.path.join(directory, "malicious.pkl"), "wb") as f:
        pickle.dump({"name": "malicious", "hook": Payload(marker)}, f, protocol=2)
    with open(os.path.join(directory, "benign.pkl"), "wb") as f:
        pickle.dump(benign(), f, protocol=2)


def append_benign(path):
    with open(path, "ab") as f:
        pickle.dump({"appended": True}, f, protocol=2)


def load(paths):
    all_ok = True
    for p in paths:
        try:
            with open(p, "rb") as f:
                value = pickle.load(f)
            print(json.dumps({"path": p, "ok": True, "value": repr(value)}), flush=True)
        except OSError as e:
            all_ok = False
            print(json.dumps({"path": p, "ok": False, "errno": e.errno, "error": type(e).__name__}), flush=True)
    return 0 if all_ok else 1


def main(argv):
    if len(argv) >= 4 and argv[1] == "make":
        make(argv[2], argv[3])
        return 0
    if len(argv) == 3 and argv[1] == "append-benign":
        append_benign(argv[2])
        return 0
    if len(argv) >= 3 and argv[1] == "load":
        return load(argv[2:])
    print("usage: model_tool.py make DIR MARKER | append-benign PATH | load PATH...", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
