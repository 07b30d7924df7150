"""Driver of benches/split.sh: `git quickscale split` against `git subtree split`.

Builds a project-shaped history with git fast-import: 2,000 commits on
main, 300 of them touching `modules/crm` (a third of those also touch user
files), 10 side branches merged back (their commits touch the module), the
module embedded with a squash commit and updated by two squash pulls (the
upstream commits exist in the repository, as after `git quickscale apply`).
Expects the environment split.sh sets up. Standard library only.
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

COMMITS = int(os.environ.get("BENCH_SPLIT_COMMITS", "2000"))
PREFIX_COMMITS = int(os.environ.get("BENCH_SPLIT_PREFIX_COMMITS", "300"))
SUBTREE_RUNS = int(os.environ.get("BENCH_SPLIT_SUBTREE_RUNS", "3"))
OUR_RUNS = int(os.environ.get("BENCH_SPLIT_RUNS", "10"))
INCREMENTAL_RUNS = int(os.environ.get("BENCH_SPLIT_INCREMENTAL_RUNS", "10"))
GOAL_RATIO = 100.0
GOAL_INCREMENTAL_MS = 50.0
PREFIX = "modules/crm"


def git(repo, *args, data=None):
    out = subprocess.run(["git", "-C", str(repo), *args], input=data,
                         capture_output=True, check=True)
    return out.stdout.decode().strip()


class Importer:
    """Writes a git fast-import stream."""

    def __init__(self):
        self.out = []
        self.mark = 0
        self.t = 1767323045

    def blob(self, text):
        self.mark += 1
        b = text.encode()
        self.out.append(b"blob\nmark :%d\ndata %d\n%s\n" % (self.mark, len(b), b))
        return self.mark

    def commit(self, ref, msg, files=(), parent=None, merge=None, deleteall=False):
        self.t += 60
        self.mark += 1
        m = msg.encode()
        s = (b"commit %s\nmark :%d\nauthor Dev <dev@example.com> %d +0000\n"
             b"committer Dev <dev@example.com> %d +0000\ndata %d\n%s\n"
             % (ref.encode(), self.mark, self.t, self.t, len(m), m))
        if parent:
            s += b"from %s\n" % parent.encode()
        if merge:
            s += b"merge %s\n" % merge.encode()
        if deleteall:
            s += b"deleteall\n"
        for path, mark in files:
            s += b"M 100644 :%d %s\n" % (mark, path.encode())
        self.out.append(s)
        return self.mark

    def run(self, repo):
        subprocess.run(["git", "-C", str(repo), "fast-import", "--quiet"],
                       input=b"".join(self.out), check=True)
        self.out = []


def build(repo):
    random.seed(11)
    git(Path("."), "init", "-q", "-b", "main", str(repo))
    # Upstream module history: 5 commits at the module's root.
    up = Importer()
    module = {f"quickscale_modules_crm/m{i}.py": f"# module file {i}\n" for i in range(30)}
    module["module.yml"] = "name: crm\nversion: \"1.0.0\"\n"
    files = {p: up.blob(t) for p, t in module.items()}
    up.commit("refs/heads/upstream", "crm 1.0.0", files.items())
    for v in range(1, 5):
        up.commit("refs/heads/upstream", f"crm 1.{v}.0",
                  [(f"quickscale_modules_crm/up{v}.py", up.blob(f"# upstream {v}\n"))])
    up.run(repo)
    upstream = git(repo, "rev-list", "--reverse", "upstream").split()

    imp = Importer()
    lib = [(f"shop/d{d}/f{f}.py", imp.blob(f"# user {d} {f}\n"))
           for d in range(40) for f in range(50)]
    main = imp.commit("refs/heads/main", "Initial project structure", lib)

    def squash(prev_sq, old, new, files_at):
        if prev_sq is None:
            msg = (f"Squashed '{PREFIX}/' content from commit {new[:7]}\n\n"
                   f"git-subtree-dir: {PREFIX}\ngit-subtree-split: {new}\n")
        else:
            msg = (f"Squashed '{PREFIX}/' changes from {old[:7]}..{new[:7]}\n\n"
                   f"git-subtree-dir: {PREFIX}\ngit-subtree-split: {new}\n")
        return imp.commit("refs/heads/squash", msg, files_at,
                          parent=(f":{prev_sq}" if prev_sq else None), deleteall=prev_sq is None)

    # Embed at upstream[0].
    module_marks = [(p, imp.blob(t)) for p, t in module.items()]
    sq = squash(None, None, upstream[0], module_marks)
    main = imp.commit("refs/heads/main", f"Merge commit 'sq' as '{PREFIX}'",
                      [(f"{PREFIX}/{p}", m) for p, m in module_marks], merge=f":{sq}")
    # Where the two squash pulls go, and the 10 side branches.
    pulls = {COMMITS // 3: 2, 2 * COMMITS // 3: 4}
    sides = {COMMITS * k // 11 for k in range(1, 11)}
    prefix_left = PREFIX_COMMITS - 10 * 5
    plain_slots = COMMITS - 2 - 2 * len(pulls) - 10 * 7
    n = 2
    side = 0
    prefix_done = 0
    up_applied = 0
    while n < COMMITS:
        if n in pulls:
            v = pulls[n]
            added = [(f"quickscale_modules_crm/up{k}.py", imp.blob(f"# upstream {k}\n"))
                     for k in range(up_applied + 1, v + 1)]
            sq = squash(sq, upstream[up_applied], upstream[v], added)
            main = imp.commit("refs/heads/main", f"Merge commit 'sq{v}'",
                              [(f"{PREFIX}/{p}", m) for p, m in added], merge=f":{sq}")
            up_applied = v
            n += 2
            continue
        if n in sides:
            side += 1
            tip = None
            for k in range(5):
                tip = imp.commit(f"refs/heads/side{side}", f"Side {side}: module fix {k}",
                                 [(f"{PREFIX}/quickscale_modules_crm/side{side}_{k}.py",
                                   imp.blob(f"# side {side} {k}\n"))],
                                 parent=(f":{main}" if k == 0 else None))
            main = imp.commit("refs/heads/main", f"User work during side {side}",
                              [("shop/d0/f0.py", imp.blob(f"# between {side}\n"))])
            main = imp.commit("refs/heads/main", f"Merge branch 'side{side}'", merge=f":{tip}")
            n += 7
            continue
        remaining_slots = max(plain_slots, 1)
        touch = prefix_done < prefix_left and random.random() < (prefix_left - prefix_done) / remaining_slots
        plain_slots -= 1
        if touch:
            prefix_done += 1
            fs = [(f"{PREFIX}/quickscale_modules_crm/m{random.randrange(30)}.py",
                   imp.blob(f"# local fix {n}\n"))]
            if prefix_done % 3 == 0:
                fs.append((f"shop/d{random.randrange(40)}/f{random.randrange(50)}.py",
                           imp.blob(f"# mixed {n}\n")))
            main = imp.commit("refs/heads/main", f"Fix crm ({n})", fs)
        else:
            main = imp.commit("refs/heads/main", f"User change {n}",
                              [(f"shop/d{random.randrange(40)}/f{random.randrange(50)}.py",
                                imp.blob(f"# user change {n}\n"))])
        n += 1
    imp.run(repo)
    git(repo, "checkout", "-q", "main")
    total = int(git(repo, "rev-list", "--count", "main"))
    touching = len(git(repo, "rev-list", "--no-merges", "--full-history", "main", "--", PREFIX).split())
    return total, touching


def timed(cmd, cwd):
    start = time.perf_counter()
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, check=True)
    return time.perf_counter() - start, out.stdout.decode().strip()


def stats(xs):
    return statistics.median(xs), min(xs), max(xs)


def fmt(s):
    return f"{s * 1000:9.1f} ms"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--subtree", default="")
    args = ap.parse_args()
    repo = Path(args.work) / "history"
    total, touching = build(repo)
    print(f"== history: {total} commits on main, {touching} non-merge commits touch {PREFIX} "
          f"(10 merged side branches, 1 embed + 2 squash pulls)")

    cache = "refs/quickscale/split/crm"
    ours_cold = []
    result = None
    for _ in range(OUR_RUNS):
        subprocess.run(["git", "-C", str(repo), "update-ref", "-d", cache], check=False)
        t, out = timed(["git", "quickscale", "split", "crm"], repo)
        ours_cold.append(t)
        result = out
    t_nothing = []
    for _ in range(OUR_RUNS):
        t, out = timed(["git", "quickscale", "split", "crm"], repo)
        assert out == result, (out, result)
        t_nothing.append(t)

    theirs = []
    if args.subtree:
        for _ in range(SUBTREE_RUNS):
            t, out = timed(["git", "subtree", "split", f"--prefix={PREFIX}"], repo)
            theirs.append(t)
            if out != result:
                print(f"MISMATCH: git subtree split gives {out}, git quickscale split gives {result}")
                sys.exit(1)
        print(f"identical split head: {result}")
    else:
        print("SKIPPED git subtree split: the git-subtree script was not found")

    incremental = []
    path = repo / PREFIX / "quickscale_modules_crm" / "m0.py"
    for i in range(INCREMENTAL_RUNS):
        path.write_text(path.read_text() + f"# incremental {i}\n")
        git(repo, "commit", "-qam", f"Incremental fix {i}")
        t, out = timed(["git", "quickscale", "split", "crm"], repo)
        incremental.append(t)
    if args.subtree:
        _, out_theirs = timed(["git", "subtree", "split", f"--prefix={PREFIX}"], repo)
        if out_theirs != out:
            print(f"MISMATCH after incremental splits: {out_theirs} vs {out}")
            sys.exit(1)
        print(f"identical after {INCREMENTAL_RUNS} incremental splits: {out}")

    print()
    print(f"{'command':58} {'median':>12} {'min':>12} {'max':>12}")
    rows = [(f"git quickscale split crm, no cache ({OUR_RUNS} runs)", ours_cold),
            (f"git quickscale split crm, cached, nothing new ({OUR_RUNS} runs)", t_nothing),
            (f"git quickscale split crm after 1 new commit ({INCREMENTAL_RUNS} runs)", incremental)]
    if theirs:
        rows.insert(0, (f"git subtree split --prefix={PREFIX} ({SUBTREE_RUNS} runs)", theirs))
    for label, xs in rows:
        med, lo, hi = stats(xs)
        print(f"{label:58} {fmt(med):>12} {fmt(lo):>12} {fmt(hi):>12}")
    print()
    inc_ms = statistics.median(incremental) * 1000
    verdict = "MEETS" if inc_ms <= GOAL_INCREMENTAL_MS else "MISSES"
    print(f"incremental split after one commit: {inc_ms:.1f} ms (goal <= {GOAL_INCREMENTAL_MS:.0f} ms): {verdict}")
    if theirs:
        for label, xs in [("full split without cache", ours_cold),
                          ("incremental split", incremental)]:
            ratio = statistics.median(theirs) / statistics.median(xs)
            ratio_min = min(theirs) / min(xs)
            verdict = "MEETS" if ratio >= GOAL_RATIO else "MISSES"
            print(f"git subtree split / {label}: {ratio:.0f}x by median, {ratio_min:.0f}x by min "
                  f"(goal >= {GOAL_RATIO:.0f}x): {verdict}")


if __name__ == "__main__":
    main()
