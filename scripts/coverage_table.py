#!/usr/bin/env python3
"""Turns the per-checker lcov reports of scripts/coverage.sh into COVERAGE.md.

    python3 scripts/coverage_table.py target/coverage scripts/coverage_reasons.toml

Reads target/coverage/<checker>.lcov for each checker; every checker
together is their sum. Lines and branches inside a `#[cfg(test)]`
module are left out: a unit test's own code is not a path of the core.

Every branch side of src/core/raft that no checker takes is listed with its
reason: an assertion's failing side is the bug it guards against (found by
the source line); any other needs an entry in the reasons file, keyed by the
file and the trimmed source line. A branch without a reason is listed as
such and the script exits 1, so a new gap cannot pass unexplained.
"""

import sys
import tomllib
from collections import defaultdict
from pathlib import Path

CHECKERS = [
    ("model", "model specs"),
    ("swarm", "swarm sweep"),
    ("proptest", "proptest"),
    ("paper-unit", "paper + unit"),
    ("durability", "durability"),
    ("fuzz", "fuzz corpus"),
]
MEASURED = ("src/core/", "src/driver/storage/", "src/driver/node.rs")
LISTED = "src/core/raft/"
ASSERTIONS = ("assert!", "assert_eq!", "assert_ne!", "debug_assert", "unreachable!")


def read_lcov(path, root):
    """{file: (lines {n: hits}, branches {(n, block, branch): taken})}."""
    files = {}
    current = None
    for raw in path.read_text().splitlines():
        if raw.startswith("SF:"):
            name = str(Path(raw[3:]).resolve().relative_to(root)) if raw[3:].startswith("/") else raw[3:]
            current = files.setdefault(name, ({}, {}))
        elif raw.startswith("DA:") and current is not None:
            line, hits = raw[3:].split(",")[:2]
            current[0][int(line)] = current[0].get(int(line), 0) + int(hits)
        elif raw.startswith("BRDA:") and current is not None:
            line, block, branch, taken = raw[5:].split(",")
            key = (int(line), block, branch)
            count = 0 if taken == "-" else int(taken)
            current[1][key] = current[1].get(key, 0) + count
        elif raw == "end_of_record":
            current = None
    return files


def test_module_lines(source):
    """Line numbers (1-based) inside `#[cfg(test)] mod name { ... }`."""
    inside = set()
    lines = source.splitlines()
    index = 0
    while index < len(lines):
        if lines[index].strip() == "#[cfg(test)]":
            start = index + 1
            while start < len(lines) and lines[start].strip().startswith("#["):
                start += 1
            if start < len(lines) and lines[start].lstrip().startswith(("mod ", "pub mod ")) and lines[start].rstrip().endswith("{"):
                depth = 0
                end = start
                while end < len(lines):
                    depth += lines[end].count("{") - lines[end].count("}")
                    if depth == 0:
                        break
                    end += 1
                inside.update(range(index + 1, end + 2))
                index = end
        index += 1
    return inside


def inside_assertion(source, line):
    """Whether 1-based `line` is part of an assertion macro's call (its own
    line, or a later line of a call spread over several)."""
    for start in range(line - 1, max(line - 9, 0) - 1, -1):
        text = source[start].strip()
        if text.startswith(ASSERTIONS):
            opened = sum(l.count("(") - l.count(")") for l in source[start : line - 1])
            return start == line - 1 or opened > 0
        if text.endswith((";", "{", "}")) and start != line - 1:
            return False
    return False


def reason_for(reasons, name, text):
    """The reasons-file entry for this line: `line` matches the trimmed source
    line exactly, `starts` its beginning (for a family of lines)."""
    for entry in reasons:
        if entry["file"] not in (name, "*"):
            continue
        if entry.get("line", "").strip() == text or (
            "starts" in entry and text.startswith(entry["starts"])
        ):
            return entry
    return None


def test_only_files(root, names):
    """Files that are whole test modules: declared `#[cfg(test)] mod name;`
    in the module beside them."""
    found = set()
    for path in sorted({p for name in names for p in (root / name).parent.glob("*.rs")}):
        lines = path.read_text().splitlines()
        folder = path.parent if path.name in ("mod.rs", "lib.rs") else path.with_suffix("")
        for before, line in zip(lines, lines[1:]):
            text = line.strip()
            if before.strip() == "#[cfg(test)]" and text.startswith("mod ") and text.endswith(";"):
                module = text[4:-1].strip()
                for candidate in (folder / f"{module}.rs", folder / module / "mod.rs"):
                    if candidate.exists():
                        found.add(str(candidate.relative_to(root)))
    return found


def measured(name):
    return name.startswith(MEASURED) and "/tests/" not in name and not name.endswith("/tests.rs")


def summarise(data, name, excluded):
    lines, branches = data.get(name, ({}, {}))
    line_keys = [n for n in lines if n not in excluded]
    branch_keys = [k for k in branches if k[0] not in excluded]
    return (
        sum(1 for n in line_keys if lines[n] > 0),
        len(line_keys),
        sum(1 for k in branch_keys if branches[k] > 0),
        len(branch_keys),
    )


def percent(covered, total):
    return "–" if total == 0 else f"{100 * covered / total:.0f}%"


def main():
    out, reasons_path = Path(sys.argv[1]), Path(sys.argv[2])
    root = Path.cwd().resolve()
    reports = {key: read_lcov(out / f"{key}.lcov", root) for key, _ in CHECKERS}
    union = {}
    for report in reports.values():
        for name, (lines, branches) in report.items():
            all_lines, all_branches = union.setdefault(name, ({}, {}))
            for line, hits in lines.items():
                all_lines[line] = all_lines.get(line, 0) + hits
            for key, taken in branches.items():
                all_branches[key] = all_branches.get(key, 0) + taken
    reasons = tomllib.loads(reasons_path.read_text()).get("reason", [])
    used = set()
    seconds = {}
    if (out / "seconds").exists():
        for raw in (out / "seconds").read_text().splitlines():
            key, value = raw.split()
            seconds[key] = int(value)

    names = sorted(name for name in union if measured(name))
    whole_tests = test_only_files(root, names)
    names = [name for name in names if name not in whole_tests]
    excluded = {name: test_module_lines((root / name).read_text()) for name in names}

    print("# Coverage of the core, per checker")
    print()
    print("Which paths of the core each semantic checker drives: line and branch")
    print("coverage of `src/core` and of the driver's storage and node loop,")
    print("measured by each checker alone and by all of them together.")
    print("Produced by `scripts/coverage.sh` (cargo-llvm-cov with branch coverage,")
    print("on nightly); this file is its output, with the reasons for the branches")
    print("no checker takes from `scripts/coverage_reasons.toml`.")
    print()
    print("The checkers, each measured on its own:")
    print()
    print("| checker | what runs | seconds |")
    print("|---|---|---:|")
    described = {
        "model": "`tests/models.rs`: every default model spec and every known-bug spec, verdicts only (`--skip change_detector`)",
        "swarm": "`electorate sweep` of Raft: 3 nodes with every fault kind (disk and clock jumps too); 5 nodes; 3 nodes with snapshots and disk faults; 3 nodes with batched clients",
        "proptest": "`tests/cluster_properties`: the proptest cluster properties",
        "paper-unit": "`tests/raft` (paper claims, chaos, lease safety, partial connectivity, snapshots), `tests/elections` and the crate's unit tests",
        "durability": "`tests/durability.rs` and `tests/crash_safety.rs`: power loss, torn writes and corruption under the simulated disk",
        "fuzz": "`tests/fuzz_corpus.rs`: the committed fuzz corpus replayed through the fuzz targets and their invariant checks",
    }
    for key, title in CHECKERS:
        print(f"| {title} | {described[key]} | {seconds.get(key, '–')} |")
    print()
    print("Left out: the scenario transcripts (`tests/scenarios`) and the pinned")
    print("state counts, which fail on any change and state no property by themselves.")
    print("Code inside `#[cfg(test)]` modules, and files that are test modules, is not counted.")
    print()
    print("## Branches reached (branch sides taken / branch sides)")
    print()
    header = " | ".join(title for _, title in CHECKERS)
    print(f"| file | sides | {header} | all |")
    print("|---|---:|" + "---:|" * (len(CHECKERS) + 1))
    for name in names:
        row = [summarise(reports[key], name, excluded[name]) for key, _ in CHECKERS]
        everything = summarise(union, name, excluded[name])
        if everything[3] == 0:
            continue
        cells = " | ".join(percent(r[2], everything[3]) for r in row)
        print(f"| `{name}` | {everything[3]} | {cells} | **{everything[2]}/{everything[3]}** |")
    print()
    print("## Lines reached")
    print()
    print(f"| file | lines | {header} | all |")
    print("|---|---:|" + "---:|" * (len(CHECKERS) + 1))
    for name in names:
        row = [summarise(reports[key], name, excluded[name]) for key, _ in CHECKERS]
        everything = summarise(union, name, excluded[name])
        cells = " | ".join(percent(r[0], everything[1]) for r in row)
        print(f"| `{name}` | {everything[1]} | {cells} | **{percent(everything[0], everything[1])}** |")
    print()
    print("## Branch sides of `src/core/raft` that no checker takes")
    print()
    print("Each with its reason. An assertion's failing side is the bug it guards")
    print("against; every other reason is written in `scripts/coverage_reasons.toml`.")
    print()
    unexplained = 0
    for name in names:
        if not name.startswith(LISTED):
            continue
        source = (root / name).read_text().splitlines()
        _, branches = union[name]
        missed = defaultdict(int)
        for (line, _, _), taken in sorted(branches.items()):
            if taken == 0 and line not in excluded[name]:
                missed[line] += 1
        if not missed:
            continue
        print(f"### `{name}`")
        print()
        for line, sides in sorted(missed.items()):
            text = source[line - 1].strip()
            entry = reason_for(reasons, name, text)
            if inside_assertion(source, line):
                why = "an assertion: its failing side is the bug it guards against"
            elif entry is not None:
                why = entry["why"]
                used.add(id(entry))
            else:
                why = "**no reason given**"
                unexplained += 1
            plural = "s" if sides > 1 else ""
            print(f"- line {line}, {sides} side{plural}: `{text}` — {why}")
        print()
    for entry in reasons:
        if id(entry) not in used:
            what = entry.get("line", entry.get("starts"))
            print(f"reason no longer needed: {entry['file']}: {what}", file=sys.stderr)
    if unexplained:
        print(f"{unexplained} branch lines without a reason", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
