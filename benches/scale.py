"""Driver of benches/scale.sh: how the cost of each command grows with the
number of modules, the number of files and the length of history, beside
git's own commands doing the same work.

Three sweeps, sizes given in the environment (see benches/README.md):
  modules  (BENCH_SCALE_MODULES, 10,50,100): a project with N modules and
           no user files: apply embedding N modules, status, check, the
           pre-commit hook, update --all of N modules.
  files    (BENCH_SCALE_FILES, 10000,50000,200000): a project with 10
           modules and N user files: status, check, the hook, apply
           embedding 5 more modules, update --all of the 10.
  commits  (BENCH_SCALE_COMMITS, 2000,20000,100000): split of a module in a
           history of N commits (15% of them touch the module).
Each point is the median of interleaved runs (ours, then git's, alternating
which goes first for the heavy commands); peak RSS is the largest process of
the command sequence. Writes <out>/scaling-*.svg and <out>/scaling.json.
Expects the environment bench.sh sets up; standard library only.
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402  (fixtures, timing)
import split as split_bench  # noqa: E402  (the fast-import history)


def sizes(var, default):
    text = os.environ.get(var, default).strip()
    return [int(x) for x in text.split(",") if x.strip()] if text else []


MODULE_SIZES = sizes("BENCH_SCALE_MODULES", "10,50,100")
FILE_SIZES = sizes("BENCH_SCALE_FILES", "10000,50000,200000")
COMMIT_SIZES = sizes("BENCH_SCALE_COMMITS", "2000,20000,100000")
RUNS = int(os.environ.get("BENCH_SCALE_RUNS", "7"))
HEAVY_RUNS = int(os.environ.get("BENCH_SCALE_HEAVY_RUNS", "2"))
# git subtree split is a shell loop over every commit: ~60 s at 2,000
# commits on this machine, so by default it is only run up to 20,000.
SUBTREE_SPLIT_MAX = int(os.environ.get("BENCH_SCALE_SUBTREE_SPLIT_MAX", "20000"))
# Above SUBTREE_SPLIT_MAX, git subtree split still runs when this is set
# (seconds): it is stopped at the limit and the point records "did not
# finish in N s" (theirs_dnf) with the time as a lower bound. It runs first
# on the fresh history, at `nice` +SUBTREE_SPLIT_NICE over the bench.
SUBTREE_SPLIT_TIMEOUT = int(os.environ.get("BENCH_SCALE_SUBTREE_SPLIT_TIMEOUT", "0"))
SUBTREE_SPLIT_NICE = int(os.environ.get("BENCH_SCALE_SUBTREE_SPLIT_NICE", "0"))
# apply and update in the files sweep copy the whole project for each run:
# only up to this many user files.
FILES_HEAVY_MAX = int(os.environ.get("BENCH_SCALE_FILES_HEAVY_MAX", "1000000"))
UPDATE_TARGET = bench.UPDATE_TAGS[-1]


def module_names(n):
    return [f"m{i:03d}" for i in range(n)]


def cp(src, dst):
    """A full copy (cp -a is much faster than shutil.copytree on 200k files).
    The copy's files have new inodes and ctimes, so its index is refreshed
    (untimed): otherwise the first timed command would re-hash every file,
    which the fresh `git clone` git's side runs in does not."""
    subprocess.run(["cp", "-a", str(src), str(dst)], check=True)
    if (dst / ".git").is_dir():
        subprocess.run(["git", "-C", str(dst), "update-index", "-q", "--refresh"], check=False,
                       stdout=subprocess.DEVNULL)


def rm(path):
    """rm -rf: several times faster than shutil.rmtree on 200k files."""
    subprocess.run(["rm", "-rf", str(path)], check=True)


def med(samples):
    return statistics.median(samples)


def cpu_ms(samples):
    """Median CPU time (user + system of every process): on a loaded machine
    the wall time of a short command is mostly waiting for a core."""
    return statistics.median(getattr(s, "cpu", 0.0) for s in samples) * 1000


def peak_mib(samples):
    return max(getattr(s, "peak_kib", 0) for s in samples) / 1024


class Results:
    """points[sweep][command] = list of {size, ours, theirs, ours_mib, theirs_mib, ...}."""

    def __init__(self):
        self.points = {}
        self.labels = {}

    def add(self, sweep, command, size, ours, theirs, ours_label, theirs_label):
        self.labels[(sweep, command)] = (ours_label, theirs_label)
        row = {"size": size, "ours_ms": med(ours) * 1000, "ours_mib": peak_mib(ours),
               "ours_cpu_ms": cpu_ms(ours), "runs": len(ours)}
        if theirs:
            row.update(theirs_ms=med(theirs) * 1000, theirs_mib=peak_mib(theirs),
                       theirs_cpu_ms=cpu_ms(theirs), theirs_runs=len(theirs))
        self.points.setdefault(sweep, {}).setdefault(command, []).append(row)
        t = f"{row['theirs_ms']:9.1f} ms {row['theirs_mib']:6.1f} MiB" if theirs else "   (not run)"
        ratio = f"{row['ours_ms'] / row['theirs_ms']:6.2f}x" if theirs else ""
        print(f"  {command:<8} {size:>7}: ours {row['ours_ms']:9.1f} ms {row['ours_mib']:6.1f} MiB"
              f" | git {t} {ratio}", flush=True)


def interleaved(pairs, cwd_ours, cwd_theirs, runs, warmup=1):
    """Times [(key, cmds, cwd)] round-robin; returns {key: [samples]}."""
    out = {}
    for i in range(warmup + runs):
        for key, cmds, cwd in pairs:
            t = bench.timed(cmds, cwd)
            if i >= warmup:
                out.setdefault(key, []).append(t)
    for key, cmds, cwd in pairs:
        kib = bench.peak(cmds, cwd)
        for t in out[key]:
            t.peak_kib = kib
    return out


def light_commands(project, results, sweep, size, names):
    """status, check and the pre-commit hook in `project`, against git."""
    pairs = [
        ("git status", [["git", "status"]], project),
        ("status", [["git", "quickscale", "status"]], project),
        ("check", [["git", "quickscale", "check"]], project),
    ]
    t = interleaved(pairs, project, project, RUNS)
    results.add(sweep, "status", size, t["status"], t["git status"],
                "git quickscale status", "git status")
    results.add(sweep, "check", size, t["check"], t["git status"],
                "git quickscale check", "git status")
    # the hook: one staged user file
    user = project / "userfile.py"
    user.write_text(f"VALUE = {size}\n")
    bench.git(project, "add", "userfile.py")
    hook = project / ".git" / "hooks" / "pre-commit"
    pairs = [
        ("diff", [["git", "diff", "--cached", "--name-only"]], project),
        ("hook", [[str(hook)]], project),
    ]
    t = interleaved(pairs, project, project, RUNS)
    results.add(sweep, "hook", size, t["hook"], t["diff"],
                "the installed pre-commit hook", "git diff --cached --name-only")
    bench.git(project, "rm", "-q", "--cached", "userfile.py")
    user.unlink()


def heavy(results, sweep, command, size, make_pair, ours_label, theirs_label, have_subtree):
    """A command that changes the repository: fresh copies for each run, the
    order of ours and theirs alternating."""
    ours_t, theirs_t = [], []
    for i in range(HEAVY_RUNS):
        t0 = time.perf_counter()
        ours_cwd, ours_cmds, theirs_cwd, theirs_cmds, cleanup = make_pair(i)
        print(f"    {command} run {i + 1}: copies made in {time.perf_counter() - t0:.0f} s "
              f"({time.strftime('%H:%M:%S')})", flush=True)
        order = [("ours", ours_cwd, ours_cmds), ("theirs", theirs_cwd, theirs_cmds)]
        if i % 2:
            order.reverse()
        for who, cwd, cmds in order:
            if who == "theirs" and not have_subtree:
                continue
            (ours_t if who == "ours" else theirs_t).append(bench.timed(cmds, cwd, rss=True))
            print(f"    {who}: {(ours_t if who == 'ours' else theirs_t)[-1]:.1f} s", flush=True)
        cleanup(i)
    results.add(sweep, command, size, ours_t, theirs_t, ours_label, theirs_label)


def apply_pair(work, base, names, upstream, tag):
    """make_pair for apply embedding `names` into a copy of `base`."""
    def make(i):
        run_dir = work / f"{tag}-run{i}"
        run_dir.mkdir()
        ours = run_dir / "ours"
        cp(base, ours)
        bench.plan_add(ours, names, upstream)  # not timed
        theirs = run_dir / "theirs"
        bench.run(["git", "clone", "-q", str(base), str(theirs)], run_dir)
        theirs_cmds = [["git", "subtree", "add", "-q", "--squash", f"--prefix=modules/{n}",
                        str(upstream / n), bench.TAG] for n in names]
        return ours, [["git", "quickscale", "apply", "--yes"]], theirs, theirs_cmds, \
            lambda i: rm(run_dir)
    return make


def update_pair(work, base, names, upstream, tag):
    """make_pair for `update --all` of `names` in a copy of `base`."""
    def make(i):
        run_dir = work / f"{tag}-run{i}"
        run_dir.mkdir()
        ours = run_dir / "ours"
        cp(base, ours)
        theirs = run_dir / "theirs"
        bench.run(["git", "clone", "-q", str(base), str(theirs)], run_dir)
        theirs_cmds = [["git", "subtree", "pull", "-q", "--squash", f"--prefix=modules/{n}",
                        str(upstream / n), UPDATE_TARGET] for n in names]
        return ours, [["git", "quickscale", "update", "--all", "--yes"]], theirs, theirs_cmds, \
            lambda i: rm(run_dir)
    return make


def local_patches(project, names):
    """A committed local patch in every module (the update keeps it)."""
    for n in names:
        readme = project / "modules" / n / "README.md"
        readme.write_text("Local note: patched in this project.\n\n" + readme.read_text())
    bench.git(project, "commit", "-qam", "Local patches")


def sweep_modules(work, upstream, results, have_subtree):
    for m in MODULE_SIZES:
        print(f"\n== {m} modules", flush=True)
        names = module_names(m)
        parent = work / f"mods{m}"
        parent.mkdir()
        base = bench.new_project(parent)
        heavy(results, "modules", "apply", m,
              apply_pair(work, base, names, upstream, f"apply{m}"),
              f"git quickscale apply ({m} modules)", f"{m} x git subtree add --squash",
              have_subtree)
        project = parent / "applied"
        cp(base, project)
        bench.plan_add(project, names, upstream)
        bench.run(["git", "quickscale", "apply", "--yes"], project)
        light_commands(project, results, "modules", m, names)
        local_patches(project, names)
        heavy(results, "modules", "update", m,
              update_pair(work, project, names, upstream, f"update{m}"),
              f"git quickscale update --all ({m} modules)", f"{m} x git subtree pull --squash",
              have_subtree)
        rm(parent)


def add_user_files(project, start, total):
    """User files number start..total-1: 40 per directory, 20 directories per area."""
    for n in range(start, total):
        area, rest = divmod(n, 800)
        pkg, k = divmod(rest, 40)
        d = project / "apps" / f"area{area:03d}" / f"pkg{pkg:02d}"
        if k == 0 or n == start:
            d.mkdir(parents=True, exist_ok=True)
        ext = "py" if k % 4 else "html"
        (d / f"file{k:02d}.{ext}").write_text(
            f"# area {area} pkg {pkg} file {k}\nVALUE = {n}\n\ndef f{k}():\n    return VALUE * {k}\n")


def sweep_files(work, upstream, results, have_subtree):
    if not FILE_SIZES:
        return
    names = module_names(10)
    extra = module_names(15)[10:]
    parent = work / "files"
    parent.mkdir()
    project = bench.new_project(parent)
    bench.plan_add(project, names, upstream)
    bench.run(["git", "quickscale", "apply", "--yes"], project)
    local_patches(project, names)
    have = 0
    for n in sorted(FILE_SIZES):
        print(f"\n== 10 modules and {n} user files", flush=True)
        t0 = time.perf_counter()
        add_user_files(project, have, n)
        have = n
        bench.git(project, "add", "-A")
        bench.git(project, "commit", "-qm", f"User files up to {n}")
        # One pack instead of N loose objects, as in a real clone: halves the
        # files each fresh copy below writes and each clean-up deletes.
        bench.git(project, "repack", "-adq")
        bench.git(project, "prune-packed")
        bench.git(project, "status", "--porcelain")  # refresh the index
        print(f"  setup {time.perf_counter() - t0:.0f} s", flush=True)
        light_commands(project, results, "files", n, names)
        if n > FILES_HEAVY_MAX:
            print(f"  apply and update not run at {n} files (BENCH_SCALE_FILES_HEAVY_MAX)")
            continue
        heavy(results, "files", "apply", n,
              apply_pair(work, project, extra, upstream, f"fapply{n}"),
              "git quickscale apply (5 modules)", "5 x git subtree add --squash", have_subtree)
        heavy(results, "files", "update", n,
              update_pair(work, project, names, upstream, f"fupdate{n}"),
              "git quickscale update --all (10 modules)", "10 x git subtree pull --squash",
              have_subtree)
    rm(parent)


def subtree_split_bounded(repo, work):
    """git subtree split under `timeout`: (sample, split head or None). The
    sample's dnf is set when the limit stopped it (its time is then a lower
    bound; `timeout` signals the whole process group)."""
    out_file = work / "subtree-split.out"
    cmd = ["nice", "-n", str(SUBTREE_SPLIT_NICE), "timeout", "-k", "30",
           str(SUBTREE_SPLIT_TIMEOUT), "sh", "-c",
           f'exec git subtree split --prefix={split_bench.PREFIX} >"$0"', str(out_file)]
    print(f"  git subtree split (limit {SUBTREE_SPLIT_TIMEOUT} s, nice +{SUBTREE_SPLIT_NICE}) "
          f"started {time.strftime('%H:%M:%S')}", flush=True)
    argv = [bench.PEAK_RSS, bench.RSS_FILE, *cmd] if bench.PEAK_RSS else cmd
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=repo, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    sample = bench.Sample(time.perf_counter() - t0)
    rc = os.waitstatus_to_exitcode(status)
    sample.cpu = usage.ru_utime + usage.ru_stime
    try:
        sample.peak_kib = int(Path(bench.RSS_FILE).read_text()) if bench.PEAK_RSS else 0
    except (OSError, ValueError):
        sample.peak_kib = 0
    sample.dnf = rc in (124, 137)
    # How far it got: git subtree's cache holds one file per commit it has
    # mapped (plus a few bookkeeping entries), left behind when it is stopped.
    cache = repo / ".git" / "subtree-cache"
    sample.progress = sum(1 for f in cache.rglob("*") if f.is_file()) if cache.is_dir() else 0
    if rc != 0 and not sample.dnf:
        sys.exit(f"bench: git subtree split exited {rc}")
    print(f"  git subtree split: {'stopped' if sample.dnf else 'done'} after {sample:.0f} s "
          f"({sample.cpu:.0f} s CPU)", flush=True)
    return sample, (None if sample.dnf else out_file.read_text().strip())


def sweep_commits(work, results, have_subtree):
    for c in COMMIT_SIZES:
        print(f"\n== split in a history of {c} commits", flush=True)
        split_bench.COMMITS = c
        split_bench.PREFIX_COMMITS = max(300, c * 3 // 20)
        repo = work / f"history{c}"
        t0 = time.perf_counter()
        total, touching = split_bench.build(repo)
        print(f"  {total} commits, {touching} touch {split_bench.PREFIX} "
              f"(built in {time.perf_counter() - t0:.0f} s)", flush=True)
        long_theirs = None
        if have_subtree and c > SUBTREE_SPLIT_MAX and SUBTREE_SPLIT_TIMEOUT:
            long_theirs = subtree_split_bounded(repo, work)
        cache = "refs/quickscale/split/crm"
        ours, walk = [], []
        head = None
        for i in range(1 + RUNS):
            subprocess.run(["git", "-C", str(repo), "update-ref", "-d", cache], check=False)
            t = bench.timed([["git", "quickscale", "split", "crm"]], repo, rss=True)
            w = bench.timed([["git", "rev-list", "--full-history", "HEAD", "--",
                              split_bench.PREFIX]], repo, rss=True)
            if i:
                ours.append(t)
                walk.append(w)
        head = bench.run(["git", "quickscale", "split", "crm"], repo).stdout.strip()
        results.add("commits", "split-walk", c, ours, walk,
                    "git quickscale split (no cache)", "git rev-list HEAD -- <prefix>")
        theirs = []
        if have_subtree and c <= SUBTREE_SPLIT_MAX:
            theirs.append(bench.timed([["git", "subtree", "split", f"--prefix={split_bench.PREFIX}"]],
                                      repo, rss=True))
            out = bench.run(["git", "subtree", "split", f"--prefix={split_bench.PREFIX}"],
                            repo).stdout.strip() if c <= 2000 else head
            if out != head:
                sys.exit(f"bench: split heads differ: ours {head} git subtree {out}")
        elif long_theirs is not None:
            sample, out = long_theirs
            theirs.append(sample)
            if not sample.dnf and out != head:
                sys.exit(f"bench: split heads differ: ours {head} git subtree {out}")
            if not sample.dnf:
                print(f"  identical split head: {head}")
        elif have_subtree:
            print(f"  git subtree split not run at {c} commits "
                  f"(BENCH_SCALE_SUBTREE_SPLIT_MAX={SUBTREE_SPLIT_MAX})")
        results.add("commits", "split", c, ours, theirs,
                    "git quickscale split (no cache)", "git subtree split")
        if theirs and getattr(theirs[0], "dnf", False):
            row = results.points["commits"]["split"][-1]
            row["theirs_dnf"] = True
            row["theirs_nice"] = SUBTREE_SPLIT_NICE
            row["theirs_progress"] = theirs[0].progress
            print(f"  git subtree split DID NOT FINISH in {SUBTREE_SPLIT_TIMEOUT} s "
                  f"(stopped; {row['theirs_cpu_ms'] / 1000:.0f} s CPU by then, about "
                  f"{row['theirs_progress']} of {total} commits mapped): a lower bound")
        rm(repo)


# --------------------------------------------------------------------------
# plots: plain SVG, log-log axes


COLORS = {"ours": "#1f6feb", "theirs": "#6e7781"}


def nice_ticks(lo, hi):
    """Powers of ten times 1, 2, 5 covering [lo, hi]."""
    ticks = []
    e = math.floor(math.log10(lo))
    while 10 ** e <= hi * 10:
        for m in (1, 2, 5):
            v = m * 10 ** e
            if lo <= v <= hi:
                ticks.append(v)
        e += 1
    return ticks


def fmt_num(v):
    if v >= 1000 and v % 1000 == 0:
        return f"{int(v // 1000)}k"
    if v >= 1:
        return f"{v:g}"
    return f"{v:.2g}"


def panel(x0, y0, w, h, title, ylabel, series):
    """One chart at (x0, y0): series = [(name, color, [(x, y)])]."""
    pts = [p for _, _, ps in series for p in ps if p[1] and p[1] > 0]
    if not pts:
        return ""
    xs = [p[0] for p in pts]
    ys = [p[1] for p in pts]
    xlo, xhi = min(xs) / 1.3, max(xs) * 1.3
    ylo, yhi = min(ys) / 2, max(ys) * 2
    left, right, top, bottom = 56, 10, 26, 34
    pw, ph = w - left - right, h - top - bottom

    def px(x):
        return x0 + left + pw * (math.log(x) - math.log(xlo)) / (math.log(xhi) - math.log(xlo))

    def py(y):
        return y0 + top + ph * (1 - (math.log(y) - math.log(ylo)) / (math.log(yhi) - math.log(ylo)))

    s = [f'<text x="{x0 + w / 2:.1f}" y="{y0 + 16}" text-anchor="middle" font-weight="bold">{title}</text>',
         f'<rect x="{x0 + left}" y="{y0 + top}" width="{pw}" height="{ph}" fill="none" stroke="#d0d7de"/>']
    for t in nice_ticks(ylo, yhi):
        y = py(t)
        s.append(f'<line x1="{x0 + left}" x2="{x0 + left + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eaeef2"/>')
        s.append(f'<text x="{x0 + left - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="10">{fmt_num(t)}</text>')
    for x in sorted(set(xs)):
        s.append(f'<text x="{px(x):.1f}" y="{y0 + top + ph + 14}" text-anchor="middle" font-size="10">{fmt_num(x)}</text>')
    s.append(f'<text x="{x0 + 12}" y="{y0 + top + ph / 2:.1f}" font-size="10" text-anchor="middle" '
             f'transform="rotate(-90 {x0 + 12} {y0 + top + ph / 2:.1f})">{ylabel}</text>')
    for i, (name, color, ps) in enumerate(series):
        ps = [p for p in ps if p[1] and p[1] > 0]
        if not ps:
            continue
        # A point stopped at a time limit (third element true) is a lower
        # bound: hollow, reached by a dashed line, marked ">=" with an arrow up.
        solid = [p for p in ps if not (len(p) > 2 and p[2])]
        path = " ".join(f"{px(p[0]):.1f},{py(p[1]):.1f}" for p in solid)
        s.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
        for k, p in enumerate(ps):
            x, y = p[0], p[1]
            if len(p) > 2 and p[2]:
                if k:
                    s.append(f'<line x1="{px(ps[k - 1][0]):.1f}" y1="{py(ps[k - 1][1]):.1f}" '
                             f'x2="{px(x):.1f}" y2="{py(y):.1f}" stroke="{color}" '
                             f'stroke-width="2" stroke-dasharray="4 3"/>')
                s.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="4" fill="white" '
                         f'stroke="{color}" stroke-width="2"/>')
                s.append(f'<line x1="{px(x):.1f}" y1="{py(y) - 5:.1f}" x2="{px(x):.1f}" '
                         f'y2="{py(y) - 16:.1f}" stroke="{color}" stroke-width="1.5"/>')
                s.append(f'<text x="{px(x) - 6:.1f}" y="{py(y) - 8:.1f}" text-anchor="end" '
                         f'font-size="10" fill="{color}">&#8805; (stopped)</text>')
            else:
                s.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{color}"/>')
        ly = y0 + top + 12 + 13 * i
        s.append(f'<text x="{x0 + left + 6}" y="{ly}" font-size="10" fill="{color}">{name}</text>')
    return "\n".join(s)


def svg(path, title, panels, cols=3):
    w, h = 330, 230
    rows = math.ceil(len(panels) / cols)
    width, height = cols * w, rows * h + 30
    body = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'font-family="sans-serif" font-size="12">',
            f'<rect width="{width}" height="{height}" fill="white"/>',
            f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">{title}</text>']
    for i, p in enumerate(panels):
        body.append(panel((i % cols) * w, 30 + (i // cols) * h, w, h, *p))
    body.append("</svg>\n")
    path.write_text("\n".join(body))


def plots(results, out):
    out.mkdir(parents=True, exist_ok=True)
    sweeps = {"modules": "number of modules", "files": "number of user files",
              "commits": "commits in history"}
    written = []
    for sweep, axis in sweeps.items():
        commands = results.points.get(sweep)
        if not commands:
            continue
        panels = []
        metrics = [("ms", "wall time, ms")]
        if any(r.get("ours_cpu_ms") for rows in commands.values() for r in rows):
            metrics.append(("cpu_ms", "CPU time, ms"))
        metrics.append(("mib", "peak RSS, MiB"))
        for metric, unit in metrics:
            for command, rows in commands.items():
                ours_label, theirs_label = results.labels[(sweep, command)]
                series = [(ours_label, COLORS["ours"], [(r["size"], r.get(f"ours_{metric}")) for r in rows]),
                          (theirs_label, COLORS["theirs"],
                           [(r["size"], r.get(f"theirs_{metric}"), r.get("theirs_dnf", False))
                            for r in rows])]
                what = {"ms": "time", "cpu_ms": "CPU", "mib": "memory"}[metric]
                panels.append((f"{command} ({what})", unit, series))
        path = out / f"scaling-{sweep}.svg"
        svg(path, f"Cost by {axis} (log-log; blue: git quickscale, grey: git)", panels,
            cols=len(commands))
        written.append(path)
    return written


def growth(rows, key):
    """The exponent k of cost ~ size^k between the smallest and largest size."""
    pts = [(r["size"], r.get(key)) for r in rows if r.get(key)]
    if len(pts) < 2:
        return None
    (x0, y0), (x1, y1) = pts[0], pts[-1]
    return math.log(y1 / y0) / math.log(x1 / x0)


def summary(results):
    print("\n== summary (median wall time ms / peak RSS MiB; growth = exponent k of cost ~ size^k)")
    for sweep, commands in results.points.items():
        for command, rows in commands.items():
            ours_label, theirs_label = results.labels[(sweep, command)]
            print(f"\n{sweep} / {command}: {ours_label}  vs  {theirs_label}")
            print(f"  {'size':>8} {'ours ms':>10} {'git ms':>10} {'ratio':>7} {'ours MiB':>9} {'git MiB':>9}")
            for r in rows:
                th = r.get("theirs_ms")
                dnf = r.get("theirs_dnf")
                ratio = f"{'<' if dnf else ''}{r['ours_ms'] / th:6.3g}x" if th else "      -"
                git_ms = f"{'>=' if dnf else ''}{th:10.1f}" if th else "         -"
                git_mib = f"{r['theirs_mib']:9.1f}" if th else "        -"
                print(f"  {r['size']:>8} {r['ours_ms']:>10.1f} {git_ms} {ratio} "
                      f"{r['ours_mib']:>9.1f} {git_mib}")
            go, gt = growth(rows, "ours_ms"), growth(rows, "theirs_ms")
            if any(r.get("theirs_dnf") for r in rows):
                print("  (git's largest point was stopped at a time limit: its k is a lower bound)")
            mo, mt = growth(rows, "ours_mib"), growth(rows, "theirs_mib")
            if go is not None:
                faster = gt is not None and go > gt + 0.1
                print(f"  time growth: ours k={go:.2f}"
                      + (f", git k={gt:.2f}" if gt is not None else "")
                      + ("  GROWS FASTER THAN GIT" if faster else ""))
            co, ct = growth(rows, "ours_cpu_ms"), growth(rows, "theirs_cpu_ms")
            if co is not None and ct is not None:
                print(f"  CPU growth: ours k={co:.2f}, git k={ct:.2f}"
                      + ("  GROWS FASTER THAN GIT" if co > ct + 0.1 else ""))
            if mo is not None and mt is not None:
                print(f"  memory growth: ours k={mo:.2f}, git k={mt:.2f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--subtree", default="")
    ap.add_argument("--out", required=True)
    ap.add_argument("--sweeps", default=os.environ.get("BENCH_SCALE_SWEEPS", "modules,files,commits"))
    ap.add_argument("--merge", action="store_true",
                    help="keep the other sweeps of <out>/scaling.json (BENCH_SCALE_MERGE=1)")
    a = ap.parse_args()
    work = Path(a.work)
    have_subtree = bool(a.subtree)
    sweeps = set(a.sweeps.split(","))
    t0 = time.perf_counter()
    results = Results()
    upstream = work / "upstream"
    if sweeps & {"modules", "files"}:
        count = max(MODULE_SIZES + [15]) if "modules" in sweeps else 15
        print(f"== fixtures: {count} module repositories", flush=True)
        names = module_names(count)
        for n in names:
            bench.module_repo(work, n)
        bench.upstream_commits(upstream, names)
        print(f"  ({time.perf_counter() - t0:.0f} s)", flush=True)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    if a.merge and (out / "scaling.json").exists():
        # Keep the sweeps of an earlier run that this one does not redo.
        # Within a redone sweep, the sizes this run does not measure are kept too.
        old = json.loads((out / "scaling.json").read_text())
        for key, labels in old["labels"].items():
            sweep, command = key.split("/", 1)
            results.labels[(sweep, command)] = tuple(labels)
        redone = {"modules": MODULE_SIZES, "files": FILE_SIZES, "commits": COMMIT_SIZES}
        for sweep, commands in old["points"].items():
            keep_sizes = set() if sweep not in sweeps else set(redone[sweep])
            for command, rows in commands.items():
                kept = [r for r in rows if r["size"] not in keep_sizes]
                if kept:
                    results.points.setdefault(sweep, {})[command] = kept

    def save():
        """Results so far (a long run that is stopped keeps its finished sweeps)."""
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        for commands in results.points.values():
            for rows in commands.values():
                rows.sort(key=lambda r: r["size"])
        (out / "scaling.json").write_text(json.dumps(
            {"points": results.points,
             "labels": {f"{s}/{c}": list(v) for (s, c), v in results.labels.items()},
             "machine": {"nproc": os.cpu_count(), "load_now": load,
                         "git": bench.git(work, "--version").strip()}}, indent=1) + "\n")
        for p in plots(results, out):
            print(f"wrote {p}", flush=True)
        return load

    # The cheapest sweep first: a stopped run still has something to show.
    for sweep, fn in (("commits", lambda: sweep_commits(work, results, have_subtree)),
                      ("modules", lambda: sweep_modules(work, upstream, results, have_subtree)),
                      ("files", lambda: sweep_files(work, upstream, results, have_subtree))):
        if sweep in sweeps:
            fn()
            save()
    summary(results)
    load = save()
    print(f"\nload average now {load}; total {time.perf_counter() - t0:.0f} s")

if __name__ == "__main__":
    main()
