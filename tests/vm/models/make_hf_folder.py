#!/usr/bin/python3
"""Writes a Hugging Face-shaped model folder into argv[1] (issue 20).

    make_hf_folder.py DIR [--no-torch]

What `huggingface_hub.snapshot_download` leaves for a small causal LM:
JSON (config, generation config, tokenizer, tokenizer config, special
tokens map, vocab, the safetensors index), text (README.md with a model
card whose code sample has `import torch` lines, merges.txt, vocab.txt),
model.safetensors written byte by byte as the format specifies (the
safetensors package is not in Debian 12), pytorch_model.bin written by the
real torch.save, and a SentencePiece tokenizer.model serialised field by
field per sentencepiece_model.proto (python3-sentencepiece is not in
Debian 12 either). Used by the scanner's unit tests and the VM tests.
"""
import json
import os
import struct
import sys

import numpy as np

out = sys.argv[1]
with_torch = "--no-torch" not in sys.argv[2:]
os.makedirs(out, exist_ok=True)


def put(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def put_json(name, obj, indent=2):
    put(name, json.dumps(obj, indent=indent, ensure_ascii=False) + "\n")


vocab = {"<|endoftext|>": 0, "h": 1, "e": 2, "l": 3, "o": 4, "Ġ": 5, "w": 6, "r": 7, "d": 8, "he": 9, "ll": 10,
         "Ġw": 11, "hell": 12, "hello": 13, "Ġwor": 14, "Ġworld": 15, "é": 16, "日本": 17}
merges = ["h e", "l l", "Ġ w", "he ll", "hell o", "Ġw o", "Ġwo r", "Ġwor ld"]
config = {
    "_name_or_path": "ltrack/tiny-lm",
    "architectures": ["GPT2LMHeadModel"],
    "model_type": "gpt2",
    "vocab_size": len(vocab),
    "n_embd": 8,
    "n_layer": 1,
    "n_head": 2,
    "layer_norm_epsilon": 1e-05,
    "initializer_range": 0.02,
    "activation_function": "gelu_new",
    "bos_token_id": 0,
    "eos_token_id": 0,
    "task_specific_params": {"text-generation": {"do_sample": True, "max_length": 50}},
    "torch_dtype": "float32",
    "transformers_version": "4.36.2",
    "use_cache": True,
    "attn_pdrop": 0.1,
    "rope_scaling": None,
}
put_json("config.json", config)
put_json("generation_config.json", {"_from_model_config": True, "bos_token_id": 0, "eos_token_id": 0,
                                    "transformers_version": "4.36.2"})
put_json("tokenizer_config.json", {
    "add_prefix_space": False,
    "added_tokens_decoder": {"0": {"content": "<|endoftext|>", "lstrip": False, "normalized": True,
                                   "rstrip": False, "single_word": False, "special": True}},
    "bos_token": "<|endoftext|>", "clean_up_tokenization_spaces": True, "eos_token": "<|endoftext|>",
    "model_max_length": 1024, "tokenizer_class": "GPT2Tokenizer", "unk_token": "<|endoftext|>",
})
put_json("special_tokens_map.json", {"bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>",
                                     "unk_token": "<|endoftext|>"})
put_json("vocab.json", vocab, indent=None)
put_json("tokenizer.json", {
    "version": "1.0",
    "truncation": None,
    "padding": None,
    "added_tokens": [{"id": 0, "content": "<|endoftext|>", "single_word": False, "lstrip": False, "rstrip": False,
                      "normalized": True, "special": True}],
    "normalizer": None,
    "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
    "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
    "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
    "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
              "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "vocab": vocab, "merges": merges},
}, indent=None)
put("merges.txt", "#version: 0.2\n" + "\n".join(merges) + "\n")
put("vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n" + "\n".join(vocab) + "\n")
put("README.md", """---
license: apache-2.0
language: [en, ja]
tags: [text-generation]
---

# tiny-lm

A model card as the Hub shows it. Its code sample has lines starting with
`import`, which a site .pth file would run and a README does not:

```python
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

tok = AutoTokenizer.from_pretrained("ltrack/tiny-lm")
model = AutoModelForCausalLM.from_pretrained("ltrack/tiny-lm")
```

| metric | value |
|---|---|
| perplexity | 42.0 |
""")

# model.safetensors: 8-byte little-endian header length, the JSON header
# (padded with spaces to 8 bytes), the tensors back to back in header order.
rng = np.random.default_rng(20)
tensors = {
    "transformer.wte.weight": rng.standard_normal((len(vocab), 8)).astype(np.float32),
    "transformer.wpe.weight": rng.standard_normal((16, 8)).astype(np.float32),
    "transformer.ln_f.weight": np.ones(8, dtype=np.float32),
    "transformer.ln_f.bias": np.zeros(8, dtype=np.float32),
}
header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
for name, arr in tensors.items():
    data = arr.tobytes()
    header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [offset, offset + len(data)]}
    blobs.append(data)
    offset += len(data)
hjson = json.dumps(header, separators=(",", ":")).encode()
hjson += b" " * (-len(hjson) % 8)
put("model.safetensors", struct.pack("<Q", len(hjson)) + hjson + b"".join(blobs))
put_json("model.safetensors.index.json", {
    "metadata": {"total_size": offset},
    "weight_map": {name: "model.safetensors" for name in tensors},
})


# tokenizer.model: sentencepiece_model.proto's ModelProto.
def varint(n):
    b = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        b.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(b)


def fld(num, wire, payload):
    key = varint(num << 3 | wire)
    if wire == 2:
        return key + varint(len(payload)) + payload
    return key + payload


def piece(text, score, kind=1):  # type: NORMAL=1, UNKNOWN=2, CONTROL=3
    return fld(1, 2, text.encode()) + fld(2, 5, struct.pack("<f", score)) + fld(3, 0, varint(kind))


pieces = [("<unk>", 0.0, 2), ("<s>", 0.0, 3), ("</s>", 0.0, 3)] + [
    ("▁" + w if i % 2 else w, -float(i), 1) for i, w in enumerate(["hello", "world", "the", "a", "日本", "é"])]
trainer = (fld(1, 2, b"corpus.txt") + fld(2, 2, b"tokenizer") + fld(3, 0, varint(1)) + fld(4, 0, varint(len(pieces)))
           + fld(10, 5, struct.pack("<f", 0.9995)))
normalizer = fld(1, 2, b"nmt_nfkc") + fld(3, 0, varint(1)) + fld(4, 0, varint(1)) + fld(5, 0, varint(1))
put("tokenizer.model", b"".join(fld(1, 2, piece(*p)) for p in pieces) + fld(2, 2, trainer) + fld(3, 2, normalizer))

try:
    import torch
except ImportError:
    torch = None  # no pytorch_model.bin: the tests that need it skip
if with_torch and torch is not None:
    import collections

    state = collections.OrderedDict((k, torch.from_numpy(v.copy())) for k, v in tensors.items())
    torch.save(state, os.path.join(out, "pytorch_model.bin"))
