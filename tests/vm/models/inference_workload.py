#!/usr/bin/python3
"""A real inference service's start, for the VM tests (issue 20).

    inference_workload.py MODEL_DIR [--evil PICKLE MARKER]

Loads a Hugging Face-shaped folder (make_hf_folder.py) the way transformers
does: JSON config, generation config and tokenizer files with json,
merges.txt/vocab.txt/README as text, the SentencePiece model's bytes,
model.safetensors parsed by hand with numpy, pytorch_model.bin with
torch.load; runs the model's embedding through torch and numpy; serves one
request on loopback (http.server) and answers it with a client. Then
writes a small checkpoint into MODEL_DIR/fresh.pt in place, slowly, and
torch.loads it at once (a download finishing, then the load). With
--evil, then opens PICKLE (a pickle whose payload would touch MARKER) as a
hostile request would make it. Prints one JSON line per step:
{"step": S, "ok": true, ...} or {"step": S, "ok": false, "errno": N,
"error": TYPE}; exit status 0 when every step but the evil one succeeded.
"""
import json
import os
import struct
import sys
import threading
import time

failed = False


def step(name, fn):
    global failed
    start = time.monotonic()
    try:
        extra = fn() or {}
        print(json.dumps({"step": name, "ok": True, "seconds": round(time.monotonic() - start, 2), **extra}),
              flush=True)
        return True
    except OSError as e:
        print(json.dumps({"step": name, "ok": False, "errno": e.errno, "error": type(e).__name__,
                          "path": getattr(e, "filename", None)}), flush=True)
    except Exception as e:  # noqa: BLE001 - the report says what went wrong
        print(json.dumps({"step": name, "ok": False, "errno": 0, "error": f"{type(e).__name__}: {e}"}), flush=True)
    if name != "evil":
        failed = True
    return False


d = sys.argv[1]
cfg = {}


def load_json():
    for name in ("config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
                 "special_tokens_map.json", "vocab.json", "model.safetensors.index.json"):
        with open(os.path.join(d, name), encoding="utf-8") as f:
            cfg[name] = json.load(f)
    return {"vocab_size": cfg["config.json"]["vocab_size"]}


def load_text():
    n = 0
    for name in ("merges.txt", "vocab.txt", "README.md"):
        with open(os.path.join(d, name), encoding="utf-8") as f:
            n += len(f.read().splitlines())
    with open(os.path.join(d, "tokenizer.model"), "rb") as f:
        n += len(f.read())
    return {"units": n}


import numpy as np  # noqa: E402

weights = {}


def load_safetensors():
    with open(os.path.join(d, "model.safetensors"), "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    for name, t in header.items():
        if name == "__metadata__":
            continue
        a, b = t["data_offsets"]
        weights[name] = np.frombuffer(data[base + a:base + b], dtype=np.float32).reshape(t["shape"])
    return {"tensors": len(weights)}


step("json", load_json)
step("text", load_text)
step("safetensors", load_safetensors)

import torch  # noqa: E402

state = {}


def load_torch():
    state.update(torch.load(os.path.join(d, "pytorch_model.bin")))
    same = all(np.array_equal(state[k].numpy(), weights[k]) for k in weights)
    return {"tensors": len(state), "same_as_safetensors": same}


def compute():
    emb = state["transformer.wte.weight"]
    ids = torch.tensor([13, 15])
    h = torch.nn.functional.layer_norm(emb[ids], (emb.shape[1],), state["transformer.ln_f.weight"],
                                       state["transformer.ln_f.bias"])
    logits = h @ emb.T
    n = np.linalg.norm(weights["transformer.wpe.weight"] @ weights["transformer.wpe.weight"].T)
    return {"next_token": int(logits[-1].argmax()), "threads": torch.get_num_threads(), "cpu_count": os.cpu_count(),
            "norm": round(float(n), 3)}


def serve():
    import http.server
    import urllib.request

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps({"model": cfg["config.json"]["model_type"]}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    srv = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.handle_request, daemon=True).start()
    with urllib.request.urlopen(f"http://127.0.0.1:{srv.server_address[1]}/generate", timeout=30) as r:
        reply = json.loads(r.read())
    srv.server_close()
    return {"reply": reply}


def fresh():
    # A model that arrives while the service runs (a download into its final
    # name, in four writes 0.3 s apart) and is loaded the moment it is
    # complete: the first open of a file nobody has scanned yet.
    import io

    buf = io.BytesIO()
    torch.save({k: state[k] for k in ("transformer.ln_f.weight", "transformer.ln_f.bias")}, buf)
    data = buf.getvalue()
    path = os.path.join(d, "fresh.pt")
    with open(path, "wb") as f:
        for i in range(4):
            f.write(data[len(data) * i // 4:len(data) * (i + 1) // 4])
            f.flush()
            time.sleep(0.3)
    got = torch.load(path)
    return {"tensors": len(got), "same": bool(torch.equal(got["transformer.ln_f.bias"], state["transformer.ln_f.bias"]))}


step("torch_load", load_torch)
step("compute", compute)
step("serve", serve)
step("fresh", fresh)

if len(sys.argv) > 2 and sys.argv[2] == "--evil":
    import pickle

    def evil():
        with open(sys.argv[3], "rb") as f:
            pickle.load(f)
        return {"payload_ran": os.path.exists(sys.argv[4])}

    step("evil", evil)

sys.exit(1 if failed else 0)
