#!/usr/bin/env python3
"""The man pages' option lists must match what the programs' --help says.

  check_options.py LTRACKD LTRACKCTL MAN_DIR

ltrackd: the options in ltrackd.8's OPTIONS section against `ltrackd --help`.
ltrackctl: the commands in ltrackctl.8's COMMANDS section against the
subcommands of `ltrackctl --help`, and each command's options against
`ltrackctl COMMAND --help`; the global OPTIONS against `ltrackctl --help`.
Prints every difference and exits 1 if there is one.
"""
import re
import subprocess
import sys

OPTION = re.compile(r'(?<![\w-])(--?[A-Za-z][A-Za-z0-9-]*)')


def help_of(argv):
    out = subprocess.run(argv + ['--help'], capture_output=True, text=True, check=False).stdout
    options, commands, section = set(), [], None
    for line in out.splitlines():
        if line and not line[0].isspace():
            section = line.rstrip(':').strip().lower()
            continue
        first = line.split()[0] if line.split() else ''
        if section == 'options' and first.startswith('-'):
            options |= {o for o in first.split(',') if o.startswith('-')}
        elif section == 'subcommands' and first:
            commands.append(first)
    return options, commands


def man_sections(path):
    sections, name = {}, None
    for line in open(path, encoding='utf-8'):
        line = line.rstrip('\n')
        if line.startswith('.SH '):
            name = line[4:].strip().strip('"')
            sections[name] = []
        elif name:
            sections[name].append(line.replace('\\-', '-'))
    return sections


def options_in(lines):
    found = set()
    for line in lines:
        if line.startswith('.TP') or line.startswith('.RS') or line.startswith('.RE'):
            continue
        found |= set(OPTION.findall(line))
    return found


def man_commands(lines):
    """{command: options} from the COMMANDS section: a command is a .TP at
    the outer level (outside .RS/.RE); its options run to the next one."""
    commands, depth, current, expect_tag = {}, 0, None, False
    for line in lines:
        if line.startswith('.RS'):
            depth += 1
        elif line.startswith('.RE'):
            depth -= 1
        elif line.startswith('.TP'):
            expect_tag = depth == 0
        elif expect_tag:
            expect_tag = False
            words = re.sub(r'^\.(B|BI|BR|I)\s+', '', line).replace('"', ' ').split()
            current = words[0]
            commands[current] = options_in([' '.join(words[1:])])
        elif current:
            commands[current] |= options_in([line])
    return commands


def compare(what, man, program, problems):
    for o in sorted(program - man):
        problems.append(f'{what}: {o} is in --help but not in the man page')
    for o in sorted(man - program):
        problems.append(f'{what}: {o} is in the man page but not in --help')


def main():
    ltrackd, ltrackctl, man_dir = sys.argv[1:4]
    problems = []
    opts, _ = help_of([ltrackd])
    compare('ltrackd', options_in(man_sections(f'{man_dir}/ltrackd.8')['OPTIONS']), opts, problems)

    sections = man_sections(f'{man_dir}/ltrackctl.8')
    opts, commands = help_of([ltrackctl])
    compare('ltrackctl', options_in(sections['OPTIONS']), opts, problems)
    documented = man_commands(sections['COMMANDS'])
    compare('ltrackctl commands', set(documented), set(commands), problems)
    for c in commands:
        if c in documented:
            sub, _ = help_of([ltrackctl, c])
            compare(f'ltrackctl {c}', documented[c] | {'-h', '--help'}, sub, problems)
    for p in problems:
        print(p)
    if not problems:
        print(f'man pages match --help: ltrackd and ltrackctl with {len(commands)} commands')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
