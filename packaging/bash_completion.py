#!/usr/bin/env python3
"""bash completion for ltrackd and ltrackctl, generated from their --help.

  bash_completion.py generate PROGRAM OUT   write PROGRAM's completion to OUT
  bash_completion.py check PROGRAM SCRIPT   complete with SCRIPT in bash as a
                                            user would: every subcommand, every
                                            option of each, every choice

The build generates both scripts from the programs it just built (so a new
subcommand or option is in the completion without anyone remembering it);
the package installs them in /usr/share/bash-completion/completions/. The
--help text is CLI11's rendering of the programs' definitions: "Subcommands:"
names the subcommands, "Options:" and "Positionals:" lines start with two
spaces, then the names and the value type (TEXT, UINT, TEXT:{a,b} for a
choice, TEXT:FILE for a file).
"""
import os
import re
import subprocess
import sys

# Options whose value is a path (completed as file names); other valued
# options are free text (nothing is offered).
PATH_OPTIONS = {'--policy', '-p', '--socket', '--output', '-o', '--log', '--diff', '--decision-log',
                '--pin-dir', '--path', '--exec', '--link'}


# ... except where a subcommand gives the name another meaning.
TEXT_OPTIONS = {('check', '--socket')}  # a socket family, not a path
current_command = ['']


def text_only(names):
    return any((current_command[0], n) in TEXT_OPTIONS for n in names)


def help_text(argv):
    return subprocess.run(argv + ['--help'], capture_output=True, text=True, check=False).stdout


def parse_help(text):
    """{'options': {name: spec}, 'positionals': [spec], 'subcommands': [name]};
    spec: None (a flag), 'text', 'path' or a list of choices."""
    out = {'options': {}, 'positionals': [], 'subcommands': []}
    section = None
    for line in text.splitlines():
        if line and not line[0].isspace():
            section = line.rstrip(':').strip().lower()
            continue
        if not line.startswith('  ') or line.startswith('   '):
            continue  # a description's continuation
        # CLI11 starts the description at column 30; a longer name and type
        # push it to the next line.
        field = line[:30] if len(line) > 30 and line[29] == ' ' and line[30] != ' ' else line
        words = field.split()
        if not words:
            continue
        if section == 'subcommands':
            out['subcommands'].append(words[0])
            continue
        typ = words[1] if len(words) > 1 and re.match(r'^[A-Z]+(:|=|$)', words[1]) else None
        spec = None
        if typ:
            choices = re.search(r':\{([^}]*)\}', typ)
            if choices:
                spec = choices.group(1).split(',')
            elif ':FILE' in typ or ':DIR' in typ:
                spec = 'path'
            else:
                spec = 'text'
        if section == 'options' and words[0].startswith('-'):
            names = [n for n in words[0].split(',') if n.startswith('-')]
            if spec == 'text' and any(n in PATH_OPTIONS for n in names) and not text_only(names):
                spec = 'path'
            for n in names:
                out['options'][n] = spec
        elif section == 'positionals':
            name = words[0]
            if name == 'command':
                spec = 'command'
            elif spec == 'text':
                spec = 'path'
            out['positionals'].append(spec)
    return out


def describe(program):
    current_command[0] = ''
    top = parse_help(help_text([program]))
    commands = {}
    for c in top['subcommands']:
        current_command[0] = c
        commands[c] = parse_help(help_text([program, c]))
    return top, commands


def bash_words(words):
    return ' '.join(words)


def value_case(cmd, options):
    """case arms completing an option's value; cmd '' for the top level."""
    arms = []
    for name, spec in sorted(options.items()):
        if spec is None:
            continue
        key = f'{cmd} {name}'.strip()
        if isinstance(spec, list):
            body = f'COMPREPLY=($(compgen -W "{bash_words(spec)}" -- "$cur"))'
        elif spec == 'path':
            body = 'compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur"))'
        else:
            body = 'COMPREPLY=()'
        arms.append(f'\t"{key}") {body} ;;')
    return arms


def positional_body(specs):
    spec = specs[0] if specs else None
    if isinstance(spec, list):
        return f'COMPREPLY=($(compgen -W "{bash_words(spec)}" -- "$cur"))'
    if spec == 'command':
        return 'COMPREPLY=($(compgen -c -- "$cur"))'
    if spec == 'path':
        return 'compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur"))'
    return 'COMPREPLY=()'


def generate(program):
    name = os.path.basename(program)
    fn = '_' + name.replace('-', '_')
    top, commands = describe(program)
    lines = [f'# bash completion for {name}: generated from `{name} --help` by',
             '# packaging/bash_completion.py when ltrack is built; do not edit.', '']
    lines.append(f'{fn}()')
    lines.append('{')
    lines.append('\tlocal cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}')
    lines.append('\tlocal cmd="" i dashdash=0')
    lines.append(f'\tlocal commands="{bash_words(top["subcommands"])}"')
    lines.append('\tfor ((i = 1; i < COMP_CWORD; i++)); do')
    lines.append('\t\tif [[ -n $cmd && ${COMP_WORDS[i]} == -- ]]; then dashdash=$i; break; fi')
    lines.append('\t\tif [[ -z $cmd && ${COMP_WORDS[i]} != -* && " $commands " == *" ${COMP_WORDS[i]} "* ]]; then')
    lines.append('\t\t\tcmd=${COMP_WORDS[i]}')
    lines.append('\t\tfi')
    lines.append('\tdone')
    # After `run ... --`: the command, then its own arguments.
    lines.append('\tif ((dashdash)); then')
    lines.append('\t\tif ((COMP_CWORD == dashdash + 1)); then COMPREPLY=($(compgen -c -- "$cur"));')
    lines.append('\t\telse compopt -o default 2>/dev/null; COMPREPLY=(); fi')
    lines.append('\t\treturn 0')
    lines.append('\tfi')
    # The value of the option just typed.
    lines.append('\tlocal handled=1')
    lines.append('\tcase "${cmd:+$cmd }$prev" in')
    lines += value_case('', top['options'])
    for c, d in commands.items():
        lines += value_case(c, d['options'])
    lines.append('\t*) handled=0 ;;')
    lines.append('\tesac')
    lines.append('\t((handled)) && return 0')
    lines.append('\tcase $cmd in')
    for c, d in list(commands.items()) + [('', top)]:
        opts = bash_words(sorted(d['options']))
        label = f'\t{c})' if c else '\t"")'
        lines.append(label)
        lines.append(f'\t\tif [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "{opts}" -- "$cur")); return 0; fi')
        if c == '' and top['subcommands']:
            lines.append('\t\tCOMPREPLY=($(compgen -W "$commands" -- "$cur"))')
        else:
            lines.append('\t\t' + positional_body(d['positionals']))
        lines.append('\t\t;;')
    lines.append('\tesac')
    lines.append('\treturn 0')
    lines.append('}')
    lines.append(f'complete -F {fn} {name}')
    return '\n'.join(lines) + '\n'


def complete(script, name, words):
    """What bash offers for the command line `words` (the last one being typed)."""
    fn = '_' + name.replace('-', '_')
    arr = ' '.join("'" + w.replace("'", "'\\''") + "'" for w in [name] + words)
    prog = (f'compopt() {{ :; }}; source "{script}"; COMP_WORDS=({arr}); COMP_CWORD={len(words)}; '
            f'{fn}; printf "%s\\n" "${{COMPREPLY[@]}}"')
    r = subprocess.run(['bash', '--norc', '--noprofile', '-c', prog], capture_output=True, text=True,
                       cwd='/', check=False)
    return set(r.stdout.split())


def check(program, script):
    name = os.path.basename(script)
    top, commands = describe(program)
    problems = []

    def expect(words, wanted, what):
        got = complete(script, name, words)
        for w in wanted:
            if w not in got:
                problems.append(f'{name} {" ".join(words)!r}<TAB>: {w} missing ({what})')

    expect([''], top['subcommands'], 'subcommand')
    expect(['-'], top['options'], 'option')
    for opt, spec in top['options'].items():
        if isinstance(spec, list):
            expect([opt, ''], spec, f'value of {opt}')
    for c, d in commands.items():
        expect([c, '-'], d['options'], f'option of {c}')
        for opt, spec in d['options'].items():
            if isinstance(spec, list):
                expect([c, opt, ''], spec, f'value of {c} {opt}')
        if d['positionals'] and isinstance(d['positionals'][0], list):
            expect([c, ''], d['positionals'][0], f'argument of {c}')
    if not top['options']:
        problems.append(f'{program} --help listed no options: is it the right program?')
    for p in problems:
        print(p)
    print(f'{name}: {len(commands)} subcommands, '
          f'{len(top["options"]) + sum(len(d["options"]) for d in commands.values())} options checked, '
          f'{len(problems)} missing')
    return 1 if problems else 0


def main(argv):
    if len(argv) == 4 and argv[1] == 'generate':
        text = generate(argv[2])
        tmp = argv[3] + '.tmp'
        with open(tmp, 'w', encoding='utf-8') as f:
            f.write(text)
        os.replace(tmp, argv[3])
        return 0
    if len(argv) == 4 and argv[1] == 'check':
        return check(argv[2], argv[3])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
