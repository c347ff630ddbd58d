"""Check realworld excerpts and thread texts against their sources, offline.

Usage:
    python benchmarks/check_realworld_sources.py GITDIR [GITDIR ...] [--files DIR]

Each GITDIR is a local git directory (bare or not) of a repository the manifests cite; its
owner/name is read from the directory name (``owner+name``) or its ``origin`` remote.
``--files DIR`` adds single source files saved as ``DIR/<owner>+<name>/<path>``
(for a repository too large to
clone). A case is checked at the cited commit when the git directory has it, else at HEAD (said
in the output). Cases whose repository is not given are listed as unverified.

Levels: ``exact`` (the kept text is a substring of the source), ``dedent`` (a run of source lines
that, less one common indentation, is the kept text), ``NOT-EXACT`` (every kept line occurs as a
source line, not as one run), ``MISMATCH``. Thread texts are split on the joining marks of
realworld/README.md and each part is looked for in the source with line breaks read as one space.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
GIT_CITE = re.compile(r"([\w.-]+/[\w.-]+)@([0-9a-f]{7,40}):(\S+?\.md)")
LEARN_URL = re.compile(r"https://learn\.microsoft\.com/troubleshoot/(\S+)")


def repo_name(gitdir: Path) -> str:
    parent = gitdir.parent if gitdir.name in ("repo", ".git") else gitdir
    if "+" in parent.name:
        return parent.name.replace("+", "/", 1)
    url = subprocess.run(
        ["git", "-C", str(gitdir), "remote", "get-url", "origin"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return "/".join(url.removesuffix(".git").split("/")[-2:])


class Sources:
    def __init__(self, gitdirs: list[Path], files_dir: Path | None) -> None:
        self.gits = {repo_name(g): g for g in gitdirs}
        self.files_dir = files_dir

    def read(self, repo: str, commit: str | None, path: str) -> tuple[str | None, str]:
        git = self.gits.get(repo)
        if git is not None:
            for rev, label in ((commit, "cited commit"), ("HEAD", "HEAD")):
                if rev is None:
                    continue
                out = subprocess.run(
                    ["git", "-C", str(git), "show", f"{rev}:{path}"], capture_output=True
                )
                if out.returncode == 0:
                    return out.stdout.decode("utf-8"), label
            return None, "path not in repository"
        if self.files_dir is not None:
            local = self.files_dir / repo.replace("/", "+", 1) / path
            if local.is_file():
                return local.read_bytes().decode("utf-8"), "saved file"
        return None, "source not available"


def match_log(kept: str, source: str) -> str:
    if kept in source:
        return "exact"
    kept_lines = kept.rstrip("\n").split("\n")
    src_lines = source.split("\n")
    for start in range(len(src_lines) - len(kept_lines) + 1):
        first = src_lines[start]
        if not first.endswith(kept_lines[0]):
            continue
        indent = first[: len(first) - len(kept_lines[0])]
        if indent.strip(" "):
            continue
        window = src_lines[start : start + len(kept_lines)]
        if all(
            s == (indent + k if k else s) and (k or not s.strip())
            for s, k in zip(window, kept_lines, strict=True)
        ):
            return f"dedent {len(indent)}"
    stripped = {line.strip() for line in src_lines}
    if all(not k.strip() or k.strip() in stripped for k in kept_lines):
        return "NOT-EXACT (every line's text is in the source, but not as one run byte for byte)"
    missing = next(k for k in kept_lines if k.strip() and k.strip() not in stripped)
    return f"MISMATCH (first line not in source: {missing[:90]!r})"


def flat(text: str) -> str:
    text = re.sub(r"[ \t]*\n[ \t]*(?:(?:[-*]|\d+\.)[ \t]+)?(?:>[ \t]?)?", " ", text)
    return re.sub(r" {2,}", " ", text)


def match_thread(text: str, source: str) -> str:
    src = flat(source)
    if text in src:
        return "exact"
    parts = [p for chunk in text.split(" ... ") for p in re.split(r" \| |: ", chunk)]
    missing = [p for p in parts if p.strip() and p.strip() not in src]
    if not missing:
        return "joined"
    return f"MISMATCH (part not in source: {missing[0][:90]!r})"


def learn_path(url: str) -> str | None:
    m = LEARN_URL.search(url)
    if not m:
        return None
    return "support/" + m.group(1).rstrip("/").split("#")[0] + ".md"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gitdirs", nargs="*", type=Path)
    parser.add_argument("--files", type=Path, default=None)
    args = parser.parse_args(argv)
    sources = Sources(args.gitdirs, args.files)
    counts: dict[str, int] = {}

    def report(kind: str, ident: str, level: str, where: str) -> None:
        key = level.split(" ")[0]
        counts[key] = counts.get(key, 0) + 1
        print(f"{kind:6} {ident:55} {level}  [{where}]")

    for case in yaml.safe_load((ROOT / "realworld/logs.yaml").read_text(encoding="utf-8")):
        if not case.get("in_repo"):
            continue
        cite = GIT_CITE.search(case["source"])
        if cite is None:
            report("log", case["id"], "unverified", "no git citation")
            continue
        repo, commit, path = cite.groups()
        source, where = sources.read(repo, commit, path)
        if source is None:
            report("log", case["id"], "unverified", where)
            continue
        for name in case["files"]:
            kept = (ROOT / "realworld/logs" / case["id"] / name).read_bytes().decode("utf-8")
            report("log", f"{case['id']}/{name}", match_log(kept, source), where)

    for entry in yaml.safe_load((ROOT / "realworld/threads.yaml").read_text(encoding="utf-8")):
        cite = GIT_CITE.search(entry["source"])
        if cite is not None:
            repo, commit, path = cite.groups()
        else:
            repo, commit, path = (
                "MicrosoftDocs/SupportArticles-docs",
                None,
                learn_path(entry["source"]),
            )
        if path is None:
            report("thread", entry["id"], "unverified", "no citable path")
            continue
        source, where = sources.read(repo, commit, path)
        if source is None:
            report("thread", entry["id"], "unverified", where)
            continue
        report("thread", entry["id"], match_thread(entry["text"], source), where)

    print(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    return 1 if counts.get("MISMATCH") or counts.get("NOT-EXACT") else 0


if __name__ == "__main__":
    sys.exit(main())
