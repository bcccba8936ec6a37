"""The two sides the attack tests compare: what `ltrackctl scan --json`
says about a file, and whether what a real loader did with it (sandbox.py)
is covered by that verdict."""
import json
import subprocess
import time


class Scanner:
    def __init__(self, ltrackctl, classify):
        self.ltrackctl = ltrackctl
        self.classify_bin = classify
        self.kinds = {}

    def scan(self, path, timeout=30):
        """{'verdict', 'imports': {(module, name)}, 'seconds', 'text'} for one file;
        verdict 'timeout' if the scan did not finish within timeout seconds."""
        start = time.monotonic()
        try:
            p = subprocess.run([self.ltrackctl, "scan", "--json", path], capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"verdict": "timeout", "imports": set(), "seconds": time.monotonic() - start, "text": ""}
        seconds = time.monotonic() - start
        try:
            row = json.loads(p.stdout)["files"][0]
        except (ValueError, IndexError, KeyError, TypeError):
            return {"verdict": f"no-json(exit {p.returncode})", "imports": set(), "seconds": seconds,
                    "text": (p.stdout + p.stderr).decode(errors="replace")[:300]}
        return {"verdict": row["verdict"], "imports": {(i["module"], i["name"]) for i in row["imports"]},
                "seconds": seconds,
                "text": "; ".join(x for x in [", ".join(row["deciding"]), row["error"], row["detail"]] if x)[:300]}

    def classify(self, pairs):
        """{(module, name): 'allowed'|'dangerous'|'unknown'} from the scanner's own lists."""
        todo = sorted({p for p in pairs if p not in self.kinds and "\n" not in p[0] + p[1] and "\t" not in p[0]})
        if todo:
            out = subprocess.run([self.classify_bin], input="".join(f"{m}\t{n}\n" for m, n in todo), text=True,
                                 capture_output=True, check=True).stdout.split()
            self.kinds.update(zip(todo, out))
        return {p: self.kinds.get(p, "unknown") for p in pairs}


# torch's unpickler renames one module before resolving it.
TORCH_RENAMES = {"torch.tensor": "torch._tensor"}


def findings(scan, loads, scanner):
    """Why this scan is wrong about what the loaders did ([] if it is not):
    'safe' while a loader reached a command (or a file write outside its
    sandbox) or resolved a global outside the
    allowlist, or (safe or suspicious) a global a loader resolved that the
    scanner's import list does not name."""
    problems = []
    verdict = scan["verdict"]
    if verdict not in ("safe", "suspicious"):
        return problems
    named = set(scan["imports"]) | {(TORCH_RENAMES.get(m, m), n) for m, n in scan["imports"]}
    for loader, rec in loads.items():
        resolved = [tuple(x) for x in rec["find_class"]]
        kinds = scanner.classify(resolved)
        for what in rec["exec"] + rec["writes"]:
            if verdict == "safe":
                problems.append(f"scanner: safe, but {loader} reached {what[0]} {what[1][:80]}")
                break
        for g in dict.fromkeys(resolved):
            if verdict == "safe" and kinds[g] != "allowed":
                problems.append(f"scanner: safe, but {loader} resolved {g[0]}.{g[1]} ({kinds[g]})")
            if g not in named:
                problems.append(f"scanner ({verdict}) did not list {g[0]}.{g[1]}, which {loader} resolved")
    return problems
