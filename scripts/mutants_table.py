#!/usr/bin/env python3
"""MUTANTS.md's table from cargo-mutants' outcome directories.

    scripts/mutants_table.py mutants.out [more/mutants.out ...]

Each directory holds caught.txt, missed.txt, timeout.txt and unviable.txt,
one mutant per line (`path:line:column: description`). A later directory's
verdict on a mutant replaces an earlier one's, so a re-run of one file after
a new test updates that file's row. Prints one row per file: caught, missed,
timed out, unviable, and the score caught / (caught + missed), a timeout
counted as caught (the mutant hangs a test, which a run notices), and the
survivors below the table.
"""

import sys
from collections import defaultdict
from pathlib import Path

KINDS = ("caught", "missed", "timeout", "unviable")


def outcomes(directories):
    verdict = {}
    for directory in directories:
        for kind in KINDS:
            path = Path(directory) / f"{kind}.txt"
            if not path.exists():
                continue
            for line in path.read_text().splitlines():
                if line.strip():
                    verdict[line.strip()] = kind
    return verdict


def main(directories):
    if not directories:
        sys.exit(__doc__)
    verdict = outcomes(directories)
    per_file = defaultdict(lambda: dict.fromkeys(KINDS, 0))
    for mutant, kind in verdict.items():
        per_file[mutant.split(":", 1)[0]][kind] += 1
    print("| file | caught | missed | timeout | unviable | score |")
    print("|---|---:|---:|---:|---:|---:|")
    for file in sorted(per_file):
        counts = per_file[file]
        judged = counts["caught"] + counts["timeout"] + counts["missed"]
        score = (
            f"{100 * (counts['caught'] + counts['timeout']) / judged:.1f} %"
            if judged
            else "–"
        )
        print(
            f"| `{file}` | {counts['caught']} | {counts['missed']} | "
            f"{counts['timeout']} | {counts['unviable']} | {score} |"
        )
    missed = sorted(m for m, kind in verdict.items() if kind == "missed")
    if missed:
        print("\nMissed:\n")
        for mutant in missed:
            print(f"- `{mutant}`")


if __name__ == "__main__":
    main(sys.argv[1:])
