#!/usr/bin/env python3
"""ltrack.toml(5) must document every key and section the parser accepts.

  check_policy_keys.py PARSE_POLICY_CPP MAN_PAGE LTRACKCTL

The keys are read from parse_policy.cpp itself: the key lists its
table_readers accept (an unknown key is an error there), the rule keys, and
the sections it opens with subtable("..."). Each section must have a .SH of
its own ([log], [profile.NAME], [profile.NAME.file], ...), each key must
appear in bold. The page's example policy must compile (ltrackctl check
--no-resolve). Prints every difference and exits 1 if there is one.
"""
import re
import subprocess
import sys
import tempfile


def parser_keys(source):
    keys = set()
    # table_reader NAME(ctx, TABLE, WHERE, {"a", "b", ...})
    for m in re.finditer(r'table_reader\s+\w+\s*\([^;{]*\{([^}]*)\}\s*\)', source, re.S):
        keys |= set(re.findall(r'"([a-z_0-9]+)"', m.group(1)))
    # the rule keys: std::vector<std::string>{"action", "file", ...}
    for m in re.finditer(r'keys\s*=\s*[^;]*;', source, re.S):
        for lst in re.findall(r'std::vector<std::string>\s*\{([^}]*)\}', m.group(0)):
            keys |= set(re.findall(r'"([a-z_0-9]+)"', lst))
    sections = set(re.findall(r'subtable\("([a-z_]+)"\)', source))
    return keys, sections


def section_title(name):
    return {'log': '[log]', 'metrics': '[metrics]', 'profile': '[profile.NAME]'}.get(name, f'[profile.NAME.{name}]')


def bold_words(page):
    words = set()
    for line in page.splitlines():
        line = line.replace('\\-', '-').replace('\\(dq', '"')
        for span in re.findall(r'\\fB(.*?)\\f[RIP]', line):
            words |= set(re.findall(r'[\w.\[\]-]+', span))
        if line.startswith('.B ') or line.startswith('.BR ') or line.startswith('.RB '):
            parts = re.findall(r'"[^"]*"|\S+', line.split(' ', 1)[1])
            first_bold = 0 if line.startswith(('.B ', '.BR ')) else 1
            for i, p in enumerate(parts):
                if line.startswith('.B ') or i % 2 == first_bold:
                    words |= set(re.findall(r'[\w.\[\]-]+', p.strip('"')))
    return words


def example(page):
    m = re.search(r'^\.nf\n\.RS 4\n(.*?)\n\.RE\n\.fi', page, re.S | re.M)
    return m.group(1).replace('\\-', '-') + '\n' if m else None


def main(argv):
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    source = open(argv[1], encoding='utf-8').read()
    page = open(argv[2], encoding='utf-8').read()
    keys, sections = parser_keys(source)
    problems = []
    if len(keys) < 20 or not sections:
        problems.append(f'found only {len(keys)} keys and {len(sections)} sections in {argv[1]}: '
                        'has the parser changed shape? (update this script)')
    headings = {line[4:].strip() for line in page.splitlines() if line.startswith('.SH ')}
    for s in sorted(sections):
        if section_title(s) not in headings:
            problems.append(f'section {section_title(s)} (subtable "{s}") has no .SH in {argv[2]}')
    bold = bold_words(page)
    for k in sorted(keys - sections):  # a section's key is its .SH
        if k not in bold:
            problems.append(f'key {k} (accepted by the parser) is not in {argv[2]}')
    text = example(page)
    if not text:
        problems.append('no example policy (.nf/.RS 4 ... .RE/.fi) in the page')
    else:
        with tempfile.NamedTemporaryFile('w', suffix='.toml') as f:
            f.write(text)
            f.flush()
            r = subprocess.run([argv[3], 'check', '--no-resolve', f.name], capture_output=True, text=True,
                               check=False)
            if r.returncode != 0:
                problems.append(f'the example policy does not compile:\n{r.stdout}{r.stderr}')
    for p in problems:
        print(p)
    print(f'{len(keys)} keys, {len(sections)} sections checked; {len(problems)} problems')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
