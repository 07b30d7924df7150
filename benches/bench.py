"""Driver of benches/bench.sh: builds the fixtures and times the commands.

Expects the environment bench.sh sets up (hermetic git config, `git quickscale`
and, when found, `git subtree` on PATH). Standard library only.
"""

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

EMBED_RUNS = int(os.environ.get("BENCH_EMBED_RUNS", "7"))
UPDATE_RUNS = int(os.environ.get("BENCH_UPDATE_RUNS", "5"))
STATUS_RUNS = int(os.environ.get("BENCH_STATUS_RUNS", "20"))
STATUS_WARMUP = int(os.environ.get("BENCH_STATUS_WARMUP", "3"))
USER_FILES = int(os.environ.get("BENCH_USER_FILES", "49600"))
HOOK_RUNS = int(os.environ.get("BENCH_HOOK_RUNS", "20"))
CHECK_RUNS = int(os.environ.get("BENCH_CHECK_RUNS", "20"))
SMALL_RUNS = int(os.environ.get("BENCH_SMALL_RUNS", "30"))
SETTLE_SECONDS = float(os.environ.get("BENCH_SETTLE_SECONDS", "2"))
UPDATE_MODULES = int(os.environ.get("BENCH_UPDATE_MODULES", "10"))
# Which parts to time (the big project is built for any of status, hook, check).
PARTS = set(os.environ.get("BENCH_PARTS", "embed,status,hook,check,update").split(","))

# Ten realistic module names; the embed bench uses the first five.
MODULES = ["blog", "catalog", "billing", "notify", "reviews",
           "crm", "surveys", "search", "wiki", "tickets"]
TAG = "v1.0.0"


def goal(name, default):
    return float(os.environ.get(f"BENCH_GOAL_{name}", default))


GOAL_EMBED = goal("EMBED", 0.5)
GOAL_UPDATE = goal("UPDATE", 0.5)
# The update bench moves every module from TAG to this tag, 3 commits later.
UPDATE_TAGS = ["v1.0.1", "v1.0.2", "v1.1.0"]
GOAL_STATUS = goal("STATUS", 1.5)
GOAL_HOOK = goal("HOOK", 1.5)
GOAL_CHECK = goal("CHECK", 1.0)
# Fixed costs (parts `version` and `small`): a no-op and a small project.
GOAL_VERSION = goal("VERSION", 1.2)
GOAL_SMALL = goal("SMALL", 1.2)


# --------------------------------------------------------------------------
# helpers


def run(cmd, cwd, check=True, quiet=True):
    out = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    if check and out.returncode != 0:
        sys.stderr.write(f"bench: {' '.join(map(str, cmd))} failed in {cwd} "
                         f"(exit {out.returncode})\n--- stdout\n{out.stdout}"
                         f"\n--- stderr\n{out.stderr}\n")
        sys.exit(1)
    if not quiet:
        sys.stdout.write(out.stdout)
    return out


def git(cwd, *args):
    return run(["git", *args], cwd).stdout


PEAK_RSS = os.environ.get("BENCH_PEAK_RSS")
RSS_FILE = str(Path(PEAK_RSS).parent / "peak_rss.out") if PEAK_RSS else None


class Sample(float):
    """A wall time in seconds that may also carry the peak resident memory
    (KiB) of the largest process the commands ran, and the CPU time (user +
    system, seconds) of all their processes: on a loaded machine the wall
    time mostly measures waiting for a core, the CPU time does not."""
    peak_kib = 0
    cpu = 0.0


def _spawn(cmd, cwd, rss_file=None):
    """Runs cmd (output discarded); returns its exit code and, with rss_file,
    the peak RSS in KiB measured by the peak_rss launcher. (A process forked
    from this Python inherits Python's resident size in its rusage, so
    wait4's numbers here would be at least the driver's ~19 MiB.)"""
    argv = [PEAK_RSS, rss_file, *cmd] if rss_file else cmd
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = rc = os.waitstatus_to_exitcode(status)
    _spawn.cpu = usage.ru_utime + usage.ru_stime
    kib = 0
    if rss_file:
        try:
            kib = int(Path(rss_file).read_text())
        except (OSError, ValueError):
            kib = 0
    return rc, kib


def timed(cmds, cwd, rss=False):
    """Wall time of a sequence of commands (output discarded); fails loudly.
    With rss (and the launcher available), the commands run through it and
    the sample carries the peak RSS: for commands that change the repository
    and cannot be rerun; its fork+exec (well under a millisecond) is in the time."""
    peak = 0
    cpu = 0.0
    rss_file = RSS_FILE if rss else None
    t0 = time.perf_counter()
    for cmd in cmds:
        rc, kib = _spawn(cmd, cwd, rss_file)
        peak = max(peak, kib)
        cpu += _spawn.cpu
        if rc != 0:
            run(cmd, cwd)  # rerun to show the error and exit
            sys.exit(f"bench: {cmd} exited {rc}")
    sample = Sample(time.perf_counter() - t0)
    sample.peak_kib = peak
    sample.cpu = cpu
    return sample


def peak(cmds, cwd):
    """Peak RSS (KiB) of the largest process of a read-only command sequence,
    from one extra run through the launcher (0 without it)."""
    if not PEAK_RSS:
        return 0
    top = 0
    for cmd in cmds:
        _, kib = _spawn(cmd, cwd, RSS_FILE)
        top = max(top, kib)
    return top


def with_peaks(times, variants, cwd_of):
    """Sets the peak RSS of each label's samples from one launcher run."""
    for label, cmds in variants:
        kib = peak(cmds, cwd_of(label, cmds))
        for t in times.get(label, []):
            t.peak_kib = kib


def write(root, files):
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


def ms(s):
    return f"{s * 1000:9.1f}"


# --------------------------------------------------------------------------
# fixture: a realistic small Django app as a module repository


def module_files(name, version, revision):
    """~35 files: manifest, packaging, models, 4 migrations, admin, forms,
    views, urls, services, signals, template tags, a management command,
    8 templates, 4 static files, tests."""
    pkg = f"quickscale_modules_{name}"
    up = name.upper()
    cls = name.capitalize()
    f = {}
    f["module.yml"] = f"""name: {name}
version: "{version}"
description: {cls} module for git-quickscale benchmarks
config:
  mutable:
    greeting:
      type: string
      default: hello
      django_setting: {up}_GREETING
      description: Greeting shown on the {name} index page
    page_size:
      type: integer
      default: 20
      django_setting: {up}_PAGE_SIZE
      validation:
        min: 1
        max: 200
    enable_feed:
      type: boolean
      default: true
      django_setting: {up}_ENABLE_FEED
  immutable:
    storage:
      type: string
      default: db
      validation:
        choices: [db, file]
    table_prefix:
      type: string
      default: {name}
dependencies: []
django_apps: [{pkg}]
urls:
  - route: "{name}/"
    include: {pkg}.urls
"""
    f["pyproject.toml"] = f"""[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "quickscale-modules-{name}"
version = "{version}"
requires-python = ">=3.11"
dependencies = ["django>=5.1"]

[tool.setuptools.packages.find]
include = ["{pkg}*"]
"""
    f["README.md"] = (f"# {cls}\n\nA {name} module for quickscale projects.\n\n"
                      f"Version {version}.\n\n## Settings\n\n"
                      f"- `{up}_GREETING`\n- `{up}_PAGE_SIZE`\n- `{up}_ENABLE_FEED`\n")
    f["CHANGELOG.md"] = "".join(f"## {v}\n\n- changes in {v}\n\n"
                                for v in ["1.0.0", "0.9.0", "0.8.0"][-revision - 1:])
    f["LICENSE"] = "MIT License\n\nCopyright (c) 2026 Bench\n" + "Permission is hereby granted...\n" * 10
    p = pkg
    f[f"{p}/__init__.py"] = f'__version__ = "{version}"\n'
    f[f"{p}/apps.py"] = (
        "from django.apps import AppConfig\n\n\n"
        f"class {cls}Config(AppConfig):\n    name = \"{pkg}\"\n    label = \"{name}\"\n"
        "    default_auto_field = \"django.db.models.BigAutoField\"\n\n"
        "    def ready(self):\n        from . import signals  # noqa: F401\n")
    models = [("Category", ["name = models.CharField(max_length=100)",
                            "slug = models.SlugField(unique=True)"]),
              ("Entry", ["title = models.CharField(max_length=200)",
                         "slug = models.SlugField(unique=True)",
                         "body = models.TextField(blank=True)",
                         "category = models.ForeignKey(Category, on_delete=models.PROTECT)",
                         "created = models.DateTimeField(auto_now_add=True)",
                         "updated = models.DateTimeField(auto_now=True)",
                         "published = models.BooleanField(default=False)"]),
              ("Comment", ["entry = models.ForeignKey(Entry, on_delete=models.CASCADE)",
                           "author = models.CharField(max_length=100)",
                           "text = models.TextField()",
                           "created = models.DateTimeField(auto_now_add=True)"])]
    body = "from django.db import models\nfrom django.urls import reverse\n\n"
    for mname, fields in models[: 2 + (revision >= 1)]:
        body += f"\nclass {mname}(models.Model):\n"
        body += "".join(f"    {fl}\n" for fl in fields)
        body += ("\n    class Meta:\n        ordering = [\"-id\"]\n\n"
                 "    def __str__(self):\n        return str(self.pk)\n")
        if mname == "Entry":
            body += ("\n    def get_absolute_url(self):\n"
                     f"        return reverse(\"{name}:detail\", args=[self.slug])\n")
        body += "\n"
    f[f"{p}/models.py"] = body
    f[f"{p}/migrations/__init__.py"] = ""
    for i in range(1, 3 + revision):
        prev = "0001_initial" if i == 2 else f"{i - 1:04d}_step"
        dep = "[]" if i == 1 else f"[(\"{name}\", \"{prev}\")]"
        mig = "initial" if i == 1 else "step"
        f[f"{p}/migrations/{i:04d}_{mig}.py"] = (
            "from django.db import migrations, models\n\n\n"
            "class Migration(migrations.Migration):\n"
            f"    initial = {i == 1}\n    dependencies = {dep}\n    operations = [\n"
            f"        migrations.CreateModel(\n            name=\"Model{i}\",\n"
            "            fields=[\n                (\"id\", models.BigAutoField(auto_created=True, "
            "primary_key=True, serialize=False, verbose_name=\"ID\")),\n"
            "                (\"name\", models.CharField(max_length=100)),\n"
            "            ],\n        ),\n    ]\n")
    f[f"{p}/admin.py"] = ("from django.contrib import admin\n\nfrom .models import Category, Entry\n\n\n"
                          "@admin.register(Category)\nclass CategoryAdmin(admin.ModelAdmin):\n"
                          "    list_display = [\"name\", \"slug\"]\n    prepopulated_fields = {\"slug\": [\"name\"]}\n\n\n"
                          "@admin.register(Entry)\nclass EntryAdmin(admin.ModelAdmin):\n"
                          "    list_display = [\"title\", \"category\", \"published\", \"created\"]\n"
                          "    list_filter = [\"published\", \"category\"]\n    search_fields = [\"title\", \"body\"]\n")
    f[f"{p}/forms.py"] = ("from django import forms\n\nfrom .models import Entry\n\n\n"
                          "class EntryForm(forms.ModelForm):\n    class Meta:\n        model = Entry\n"
                          "        fields = [\"title\", \"slug\", \"body\", \"category\", \"published\"]\n")
    f[f"{p}/services.py"] = ("from django.conf import settings\n\nfrom .models import Entry\n\n\n"
                             "def published(limit=None):\n"
                             "    qs = Entry.objects.filter(published=True).select_related(\"category\")\n"
                             f"    return qs[: limit or settings.{up}_PAGE_SIZE]\n")
    f[f"{p}/signals.py"] = ("import logging\n\nfrom django.db.models.signals import post_save\n"
                            "from django.dispatch import receiver\n\nfrom .models import Entry\n\n"
                            "log = logging.getLogger(__name__)\n\n\n"
                            "@receiver(post_save, sender=Entry)\ndef entry_saved(sender, instance, created, **kwargs):\n"
                            "    log.info(\"entry %s saved (created=%s)\", instance.pk, created)\n")
    f[f"{p}/views.py"] = (
        "from django.conf import settings\nfrom django.urls import reverse_lazy\n"
        "from django.views import generic\n\nfrom .forms import EntryForm\nfrom .models import Entry\n\n\n"
        "class EntryList(generic.ListView):\n    model = Entry\n"
        f"    template_name = \"{name}/entry_list.html\"\n\n"
        f"    def get_paginate_by(self, queryset):\n        return settings.{up}_PAGE_SIZE\n\n"
        "    def get_context_data(self, **kw):\n        ctx = super().get_context_data(**kw)\n"
        f"        ctx[\"greeting\"] = settings.{up}_GREETING\n        return ctx\n\n\n"
        f"class EntryDetail(generic.DetailView):\n    model = Entry\n    template_name = \"{name}/entry_detail.html\"\n\n\n"
        f"class EntryCreate(generic.CreateView):\n    model = Entry\n    form_class = EntryForm\n"
        f"    template_name = \"{name}/entry_form.html\"\n\n\n"
        f"class EntryDelete(generic.DeleteView):\n    model = Entry\n"
        f"    template_name = \"{name}/entry_confirm_delete.html\"\n"
        f"    success_url = reverse_lazy(\"{name}:list\")\n")
    f[f"{p}/urls.py"] = (
        "from django.urls import path\n\nfrom . import views\n\n"
        f"app_name = \"{name}\"\n\nurlpatterns = [\n"
        "    path(\"\", views.EntryList.as_view(), name=\"list\"),\n"
        "    path(\"new/\", views.EntryCreate.as_view(), name=\"create\"),\n"
        "    path(\"<slug:slug>/\", views.EntryDetail.as_view(), name=\"detail\"),\n"
        "    path(\"<slug:slug>/delete/\", views.EntryDelete.as_view(), name=\"delete\"),\n]\n")
    f[f"{p}/templatetags/__init__.py"] = ""
    f[f"{p}/templatetags/{name}_tags.py"] = (
        "from django import template\n\nfrom ..services import published\n\n"
        "register = template.Library()\n\n\n"
        f"@register.inclusion_tag(\"{name}/partials/latest.html\")\n"
        f"def latest_{name}(limit=5):\n    return {{\"entries\": published(limit)}}\n")
    f[f"{p}/management/__init__.py"] = ""
    f[f"{p}/management/commands/__init__.py"] = ""
    f[f"{p}/management/commands/{name}_stats.py"] = (
        "from django.core.management.base import BaseCommand\n\nfrom ...models import Entry\n\n\n"
        "class Command(BaseCommand):\n    help = \"Counts entries\"\n\n"
        "    def handle(self, *args, **options):\n"
        "        self.stdout.write(str(Entry.objects.count()))\n")
    t = f"{p}/templates/{name}"
    base = "{% extends \"base.html\" %}\n{% load static %}\n"
    f[f"{t}/base.html"] = (base + "{% block extra_head %}<link rel=\"stylesheet\" href=\"{% static '"
                           + name + "/css/" + name + ".css' %}\">{% endblock %}\n")
    f[f"{t}/entry_list.html"] = (f"{{% extends \"{name}/base.html\" %}}\n{{% block content %}}\n"
                                 "<h1>{{ greeting }}</h1>\n<ul>\n{% for e in object_list %}\n"
                                 "  {% include \"" + name + "/partials/entry_row.html\" with entry=e %}\n"
                                 "{% empty %}<li>Nothing yet.</li>{% endfor %}\n</ul>\n"
                                 "{% include \"" + name + "/partials/pagination.html\" %}\n{% endblock %}\n")
    f[f"{t}/entry_detail.html"] = (f"{{% extends \"{name}/base.html\" %}}\n{{% block content %}}\n"
                                   "<article><h1>{{ object.title }}</h1>\n{{ object.body|linebreaks }}</article>\n"
                                   "{% endblock %}\n")
    f[f"{t}/entry_form.html"] = (f"{{% extends \"{name}/base.html\" %}}\n{{% block content %}}\n"
                                 "<form method=\"post\">{% csrf_token %}{{ form.as_p }}"
                                 "<button>Save</button></form>\n{% endblock %}\n")
    f[f"{t}/entry_confirm_delete.html"] = (f"{{% extends \"{name}/base.html\" %}}\n{{% block content %}}\n"
                                           "<form method=\"post\">{% csrf_token %}<p>Delete {{ object }}?</p>"
                                           "<button>Delete</button></form>\n{% endblock %}\n")
    f[f"{t}/partials/entry_row.html"] = "<li><a href=\"{{ entry.get_absolute_url }}\">{{ entry.title }}</a></li>\n"
    f[f"{t}/partials/pagination.html"] = ("{% if is_paginated %}<nav>{% if page_obj.has_previous %}"
                                          "<a href=\"?page={{ page_obj.previous_page_number }}\">prev</a>{% endif %}"
                                          "{% if page_obj.has_next %}<a href=\"?page={{ page_obj.next_page_number }}\">"
                                          "next</a>{% endif %}</nav>{% endif %}\n")
    f[f"{t}/partials/latest.html"] = "<ul>{% for e in entries %}<li>{{ e.title }}</li>{% endfor %}</ul>\n"
    s = f"{p}/static/{name}"
    f[f"{s}/css/{name}.css"] = "".join(f".{name}-c{i} {{ margin: {i}px; padding: {i % 7}px; }}\n"
                                       for i in range(60 + revision))
    f[f"{s}/js/{name}.js"] = ("document.addEventListener('DOMContentLoaded', () => {\n"
                              + "".join(f"  // step {i}\n" for i in range(40)) + "});\n")
    f[f"{s}/img/{name}.svg"] = ("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"16\" height=\"16\">"
                                "<circle cx=\"8\" cy=\"8\" r=\"7\"/></svg>\n")
    f[f"{s}/img/logo.svg"] = ("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"64\" height=\"16\">"
                              f"<text x=\"0\" y=\"12\">{name}</text></svg>\n")
    f[f"{p}/tests/__init__.py"] = ""
    f[f"{p}/tests/test_models.py"] = ("from django.test import TestCase\n\nfrom ..models import Category, Entry\n\n\n"
                                      "class EntryTests(TestCase):\n    def test_str(self):\n"
                                      "        c = Category.objects.create(name=\"c\", slug=\"c\")\n"
                                      "        e = Entry.objects.create(title=\"t\", slug=\"t\", category=c)\n"
                                      "        self.assertEqual(str(e), str(e.pk))\n")
    f[f"{p}/tests/test_views.py"] = ("from django.test import TestCase\nfrom django.urls import reverse\n\n\n"
                                     "class ViewTests(TestCase):\n    def test_list(self):\n"
                                     f"        r = self.client.get(reverse(\"{name}:list\"))\n"
                                     "        self.assertEqual(r.status_code, 200)\n")
    return f


def module_repo(root, name):
    """A module repository with three commits tagged v0.8.0, v0.9.0, v1.0.0."""
    d = root / "upstream" / name
    d.mkdir(parents=True)
    git(d, "init", "-q", "-b", "main")
    for rev, version in enumerate(["0.8.0", "0.9.0", "1.0.0"]):
        # remove files that the next revision renames/drops
        for p in d.rglob("*"):
            if p.is_file() and ".git" not in p.parts:
                p.unlink()
        write(d, module_files(name, version, rev))
        git(d, "add", "-A")
        git(d, "commit", "-qm", f"{name} {version}")
        git(d, "tag", f"v{version}")
    return d


# --------------------------------------------------------------------------
# part 1: embedding 5 modules


def new_project(parent, slug="shop"):
    run(["git", "quickscale", "plan", slug, "--theme", "showcase_html", "--yes"], parent)
    d = parent / slug
    run(["git", "quickscale", "apply", "--yes"], d)
    return d


def plan_add(project, names, upstream):
    args = ["git", "quickscale", "plan"]
    for n in names:
        args += ["--add", f"{n}@{TAG}", "--source", f"{n}={upstream / n}"]
    run(args + ["--yes"], project)


def bench_embed(work, upstream, have_subtree, results):
    names = MODULES[:5]
    base_parent = work / "embed"
    base_parent.mkdir()
    base = new_project(base_parent)
    ours_t, theirs_t = [], []
    checked = False
    print(f"\n== embedding 5 modules ({EMBED_RUNS} runs, fresh copies each run)")
    create_cost(work, "before embed")
    for i in range(EMBED_RUNS):
        run_dir = work / f"embed-run{i}"
        run_dir.mkdir()
        ours = run_dir / "ours"
        shutil.copytree(base, ours, symlinks=True)
        plan_add(ours, names, upstream)  # not timed
        theirs = run_dir / "theirs"
        run(["git", "clone", "-q", str(base), str(theirs)], run_dir)
        ours_cmd = [["git", "quickscale", "apply", "--yes"]]
        theirs_cmd = [["git", "subtree", "add", "--squash", f"--prefix=modules/{n}",
                       str(upstream / n), TAG] for n in names]
        # The copy and the clone above may still be being written back;
        # apply syncs what it writes, and on ext4 (data=ordered) a sync can
        # wait for other new files of the same journal transaction, which
        # git-subtree (syncing nothing) never does. Medians of three full
        # runs before: 226-277 ms; of two after: 128-132 ms (min 57-71).
        os.sync()
        # alternate the order so neither side always gets the warmer cache
        order = [("ours", ours, ours_cmd), ("theirs", theirs, theirs_cmd)]
        if i % 2:
            order.reverse()
        line = []
        for who, cwd, cmds in order:
            if who == "theirs" and not have_subtree:
                continue
            t = timed(cmds, cwd, rss=True)
            (ours_t if who == "ours" else theirs_t).append(t)
            line.append(f"{who} {t * 1000:.1f} ms")
        print(f"  run {i + 1}: " + ", ".join(line))
        if not checked:
            checked = True
            sanity_embed(ours, theirs if have_subtree else None, names)
        discard(run_dir)
    results.append(("embed 5: git quickscale apply", ours_t))
    if have_subtree:
        results.append(("embed 5: 5x git subtree add --squash", theirs_t))
    return ours_t, theirs_t


def sanity_embed(ours, theirs, names):
    """Same trees as git-subtree; report whether the commits are identical too."""
    msgs = []
    for n in names:
        o = git(ours, "rev-parse", f"HEAD:modules/{n}").strip()
        if theirs is not None:
            t = git(theirs, "rev-parse", f"HEAD:modules/{n}").strip()
            if o != t:
                sys.exit(f"bench: modules/{n} differs: ours {o} theirs {t}")
    n_commits = git(ours, "rev-list", "--count", "HEAD").strip()
    msgs.append(f"ours: {n_commits} commits, {len(git(ours, 'ls-files').splitlines())} files")
    if theirs is not None:
        msgs.append("module trees identical to git-subtree's")
        # our merge chain sits under the wiring commit
        same = git(ours, "rev-parse", "HEAD^").strip() == git(theirs, "rev-parse", "HEAD").strip()
        msgs.append("merge commits hash-identical" if same else
                    "merge commits not hash-identical (order/messages differ)")
    print("  check: " + "; ".join(msgs))


# --------------------------------------------------------------------------
# part 2: status in a big project


def user_files(project, total):
    """`total` small Python/HTML files in nested dirs outside modules/."""
    per_dir = 40
    sub = 20
    n = 0
    top = 0
    while n < total:
        for s in range(sub):
            d = project / "apps" / f"area{top:02d}" / f"pkg{s:02d}"
            d.mkdir(parents=True, exist_ok=True)
            for k in range(per_dir):
                if n >= total:
                    break
                ext = "py" if k % 4 else "html"
                (d / f"file{k:02d}.{ext}").write_text(
                    f"# area {top} pkg {s} file {k}\nVALUE = {n}\n\n"
                    f"def f{k}():\n    return VALUE * {k}\n")
                n += 1
        top += 1
    return n


def big_project(work, upstream):
    """The status/hook/check project: 10 modules and ~USER_FILES user files,
    plus a twin with the same modules and no user files."""
    parent = work / "status"
    parent.mkdir()
    print(f"\n== a big project (10 modules, ~{USER_FILES} user files)")
    t0 = time.perf_counter()
    project = new_project(parent)
    plan_add(project, MODULES, upstream)
    t = time.perf_counter()
    run(["git", "quickscale", "apply", "--yes"], project)
    print(f"  git quickscale apply (10 modules): {(time.perf_counter() - t) * 1000:.0f} ms (one run, not in the table)")
    # a few-files twin for the profile: same 10 modules, no user files
    small = work / "status-small"
    shutil.copytree(project, small, symlinks=True)
    made = user_files(project, USER_FILES)
    git(project, "add", "-A")
    git(project, "commit", "-qm", "User files")
    total = len(git(project, "ls-files").splitlines())
    print(f"  setup: {made} user files written, {total} tracked files in total, "
          f"{time.perf_counter() - t0:.1f} s")
    return project, small


def bench_status(project, small, results):
    print(f"\n== status in the big project ({STATUS_RUNS} runs)")
    variants = [
        ("status: git status", [["git", "status"]]),
        ("status: git status --porcelain", [["git", "status", "--porcelain"]]),
        ("status: git quickscale status", [["git", "quickscale", "status"]]),
        ("status: git quickscale status --json", [["git", "quickscale", "status", "--json"]]),
        ("status: git-quickscale status (direct)", [["git-quickscale", "status"]]),
        ("status: git quickscale status, 10 mods, few files", None),
    ]
    # sanity: the project is clean and in sync
    porcelain = git(project, "status", "--porcelain")
    if porcelain.strip():
        sys.exit(f"bench: project not clean:\n{porcelain[:2000]}")
    import json
    st = json.loads(git(project, "quickscale", "status", "--json"))
    print(f"  check: git status clean; quickscale status in_sync={st['in_sync']}, "
          f"{len(st['modules'])} modules, state origin={st['state']['origin']}")
    times = {}
    # warm-up (also lets git refresh its racily-clean index entries)
    for _ in range(STATUS_WARMUP):
        for label, cmds in variants:
            cwd = small if cmds is None else project
            timed(cmds or [["git", "quickscale", "status"]], cwd)
    # interleaved measured runs
    for _ in range(STATUS_RUNS):
        for label, cmds in variants:
            cwd = small if cmds is None else project
            times.setdefault(label, []).append(timed(cmds or [["git", "quickscale", "status"]], cwd))
    with_peaks(times, [(label, cmds or [["git", "quickscale", "status"]]) for label, cmds in variants],
               lambda label, cmds: small if label.endswith("few files") else project)
    for label, _ in variants:
        results.append((label, times[label]))
    return times


# --------------------------------------------------------------------------
# fixed costs: a no-op, and status and the hook in a small project


def bench_version(work, results):
    """`git-quickscale --version` against `git --version`: process start-up."""
    print(f"\n== --version ({SMALL_RUNS} runs)")
    variants = [
        ("version: git --version", [["git", "--version"]]),
        ("version: git-quickscale --version", [["git-quickscale", "--version"]]),
    ]
    times = {}
    for i in range(STATUS_WARMUP + SMALL_RUNS):
        for label, cmds in variants:
            t = timed(cmds, work)
            if i >= STATUS_WARMUP:
                times.setdefault(label, []).append(t)
    with_peaks(times, variants, lambda label, cmds: work)
    for label, _ in variants:
        results.append((label, times[label]))
    return times


def discard(path):
    """Leaves a finished run's copies for bench.sh to delete with the rest.
    On ext4 a new inode skips every inode freed in the last seconds (minutes
    while its table block is dirty) in the same block group, one buffer
    lookup each: right after an `rm -rf` every file created costs several
    times more, ours and git's alike, and deleting run i's copies just
    before run i+1 could time that instead of the commands. (Five A/B
    pairs showed no clear difference: benches/README.md, "7 December".)"""
    if os.environ.get("BENCH_EAGER_DELETE"):
        shutil.rmtree(path)


CREATE_COSTS = []


def create_cost(work, label):
    """Times creating 200 small files in a new directory of the bench's
    work tree (kept, like the runs' copies): what one file costs this
    filesystem now. apply and git-subtree both write a few hundred, and
    the cost moved between ~120 and ~500 µs here with what was deleted
    in the minutes before (see discard)."""
    d = work / f"create-probe-{len(CREATE_COSTS)}"
    d.mkdir()
    t = time.perf_counter()
    for i in range(200):
        (d / f"f{i}").write_bytes(b"x")
    us = (time.perf_counter() - t) / 200 * 1e6
    CREATE_COSTS.append(f"{label} {us:.0f} µs")
    print(f"  a new file costs {us:.0f} µs here now ({label})")


def settle():
    """Lets the writes of the set-up reach the disk before timing: right
    after `apply` the kernel's writeback of its few hundred new files runs
    on the same 2 cores and slowed every command of the first rounds (ours
    and git's alike, but not in proportion)."""
    os.sync()
    time.sleep(SETTLE_SECONDS)


def bench_small(work, upstream, results):
    """A generated project with 5 small modules (hooks installed by apply):
    `git quickscale status` against `git status`, and the installed
    pre-commit hook (one staged user file) against `git diff --cached --name-only`."""
    parent = work / "small"
    parent.mkdir()
    project = new_project(parent)
    plan_add(project, MODULES[:5], upstream)
    run(["git", "quickscale", "apply", "--yes"], project)
    print(f"\n== a small project with 5 modules ({SMALL_RUNS} runs)")
    hook = project / ".git" / "hooks" / "pre-commit"
    if "## START QUICKSCALE" not in hook.read_text():
        sys.exit(f"bench: {hook} has no git-quickscale block (apply should have installed it)")
    status_variants = [
        ("small: git status", [["git", "status"]]),
        ("small: git quickscale status", [["git", "quickscale", "status"]]),
        ("small: git-quickscale status (direct)", [["git-quickscale", "status"]]),
    ]
    user = project / "notes.py"
    hook_variants = [
        ("small: git diff --cached --name-only", [["git", "diff", "--cached", "--name-only"]]),
        ("small: pre-commit (installed shim)", [[str(hook)]]),
        ("small: git-quickscale hooks run pre-commit",
         [["git-quickscale", "hooks", "run", "pre-commit"]]),
    ]
    # As after Django ran: a __pycache__ in every package of the modules
    # (ignored by the generated .gitignore), which git and status meet.
    pycache_variants = [
        (label.replace("small:", "small+pycache:"), cmds) for label, cmds in status_variants
    ]
    packages = sorted({p.parent for p in (project / "modules").rglob("*.py")})

    def pycache(present):
        for package in packages:
            cache = package / "__pycache__"
            if present:
                cache.mkdir(exist_ok=True)
                for source in package.glob("*.py"):
                    (cache / f"{source.stem}.cpython-311.pyc").write_bytes(b"\x00" * 2000)
            else:
                shutil.rmtree(cache, ignore_errors=True)

    def stage_user_file():
        pycache(False)
        user.write_text("VALUE = 1\n")
        git(project, "add", "notes.py")

    times = {}
    for variants, prepare in ((status_variants, None),
                              (pycache_variants, lambda: pycache(True)),
                              (hook_variants, stage_user_file)):
        if prepare:
            prepare()
        settle()
        for i in range(STATUS_WARMUP + SMALL_RUNS):
            for label, cmds in variants:
                t = timed(cmds, project)
                if i >= STATUS_WARMUP:
                    times.setdefault(label, []).append(t)
        with_peaks(times, variants, lambda label, cmds: project)
        for label, _ in variants:
            results.append((label, times[label]))
    return times


# --------------------------------------------------------------------------
# part 3: the pre-commit hook in the big project


def bench_hook(project, results):
    """The pre-commit hook as git runs it (the installed file: the shim block,
    then `git-quickscale hooks run pre-commit`) vs `git diff --cached
    --name-only`, on the same staged commit."""
    hook = project / ".git" / "hooks" / "pre-commit"
    print(f"\n== pre-commit hook in the big project ({HOOK_RUNS} runs)")
    if "## START QUICKSCALE" not in hook.read_text():
        sys.exit(f"bench: {hook} has no git-quickscale block (apply should have installed it)")
    # sanity: a mixed staged change is refused, then reset
    user = project / "apps" / "area00" / "pkg00" / "file01.py"
    module = project / "modules" / MODULES[0] / "README.md"
    original_user, original_module = user.read_text(), module.read_text()
    user.write_text(original_user + "# mixed\n")
    module.write_text(original_module + "mixed\n")
    git(project, "add", "-A")
    rc = subprocess.run([str(hook)], cwd=project, stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL).returncode
    if rc != 1:
        sys.exit(f"bench: the hook did not refuse a mixed commit (exit {rc})")
    module.write_text(original_module)
    git(project, "add", "-A")
    staged = git(project, "diff", "--cached", "--name-only").split()
    print(f"  check: a mixed commit is refused (exit 1); timing a commit of {staged}")
    variants = [
        ("hook: git diff --cached --name-only", [["git", "diff", "--cached", "--name-only"]]),
        ("hook: pre-commit (installed shim)", [[str(hook)]]),
        ("hook: git-quickscale hooks run pre-commit", [["git-quickscale", "hooks", "run", "pre-commit"]]),
    ]
    times = {}
    for _ in range(STATUS_WARMUP):
        for label, cmds in variants:
            timed(cmds, project)
    for _ in range(HOOK_RUNS):
        for label, cmds in variants:
            times.setdefault(label, []).append(timed(cmds, project))
    with_peaks(times, variants, lambda label, cmds: project)
    for label, _ in variants:
        results.append((label, times[label]))
    user.write_text(original_user)
    git(project, "add", "-A")
    return times


# --------------------------------------------------------------------------
# part 3: updating 10 modules


def upstream_commits(upstream, names):
    """Three commits per module after TAG (a fix, a template change, a new
    migration and option), tagged v1.0.1, v1.0.2, v1.1.0."""
    for n in names:
        d = upstream / n
        pkg = f"quickscale_modules_{n}"
        for i, tag in enumerate(UPDATE_TAGS):
            views = d / pkg / "views.py"
            views.write_text(views.read_text() + f"\n\n# upstream fix {i}\n")
            tpl = next((d / pkg / "templates").rglob("*.html"))
            tpl.write_text(tpl.read_text() + f"<!-- upstream {i} -->\n")
            if i == 2:
                mig = d / pkg / "migrations" / "0099_upstream.py"
                mig.write_text("from django.db import migrations\n\n\n"
                               "class Migration(migrations.Migration):\n"
                               "    dependencies = []\n    operations = []\n")
                manifest = d / "module.yml"
                manifest.write_text(manifest.read_text().replace(
                    "  immutable:\n",
                    f"    show_feed_title:\n      type: boolean\n      default: true\n"
                    f"      django_setting: {n.upper()}_SHOW_FEED_TITLE\n  immutable:\n"))
            git(d, "add", "-A")
            git(d, "commit", "-qm", f"{n} {tag}")
            git(d, "tag", tag)


def bench_update(work, upstream, have_subtree, results):
    names = sorted(MODULES[:UPDATE_MODULES])
    parent = work / "update"
    parent.mkdir()
    base = new_project(parent)
    plan_add(base, names, upstream)
    run(["git", "quickscale", "apply", "--yes"], base)
    # a local patch in every module, committed (the merge keeps it)
    for n in names:
        readme = base / "modules" / n / "README.md"
        readme.write_text("Local note: patched in this project.\n\n" + readme.read_text())
    git(base, "commit", "-qam", "Local patches")
    upstream_commits(upstream, names)
    target = UPDATE_TAGS[-1]
    ours_t, theirs_t = [], []
    checked = False
    print(f"\n== updating {len(names)} modules, each 3 upstream commits behind "
          f"({TAG} -> {target}, {UPDATE_RUNS} runs, fresh copies each run)")
    create_cost(work, "before update")
    for i in range(UPDATE_RUNS):
        run_dir = work / f"update-run{i}"
        run_dir.mkdir()
        ours = run_dir / "ours"
        shutil.copytree(base, ours, symlinks=True)
        theirs = run_dir / "theirs"
        run(["git", "clone", "-q", str(base), str(theirs)], run_dir)
        ours_cmd = [["git", "quickscale", "update", "--all", "--yes"]]
        theirs_cmd = [["git", "subtree", "pull", "-q", "--squash", f"--prefix=modules/{n}",
                       str(upstream / n), target] for n in names]
        os.sync()  # the set-up's writes, as in bench_embed
        order = [("ours", ours, ours_cmd), ("theirs", theirs, theirs_cmd)]
        if i % 2:
            order.reverse()
        line = []
        for who, cwd, cmds in order:
            if who == "theirs" and not have_subtree:
                continue
            t = timed(cmds, cwd, rss=True)
            (ours_t if who == "ours" else theirs_t).append(t)
            line.append(f"{who} {t * 1000:.1f} ms")
        print(f"  run {i + 1}: " + ", ".join(line))
        if not checked:
            checked = True
            sanity_update(ours, theirs if have_subtree else None, names, target)
        discard(run_dir)
    k = len(names)
    results.append((f"update {k}: git quickscale update --all", ours_t))
    if have_subtree:
        results.append((f"update {k}: {k}x git subtree pull --squash", theirs_t))
    return ours_t, theirs_t


def sanity_update(ours, theirs, names, target):
    """The same module trees as git-subtree's, local patches kept."""
    msgs = []
    for n in names:
        readme = (ours / "modules" / n / "README.md").read_text()
        if not readme.startswith("Local note"):
            sys.exit(f"bench: the local patch of modules/{n} was lost")
        if theirs is not None:
            o = git(ours, "rev-parse", f"HEAD:modules/{n}").strip()
            t = git(theirs, "rev-parse", f"HEAD:modules/{n}").strip()
            if o != t:
                sys.exit(f"bench: modules/{n} differs after the update: ours {o} theirs {t}")
    msgs.append(f"all {len(names)} modules at {target}, local patches kept")
    if theirs is not None:
        msgs.append("module trees identical to git-subtree's")
        same = git(ours, "rev-parse", "HEAD^").strip() == git(theirs, "rev-parse", "HEAD").strip()
        msgs.append("merge commits hash-identical" if same else
                    "merge commits NOT hash-identical")
    print("  check: " + "; ".join(msgs))


# --------------------------------------------------------------------------
# part 4: check in the big project


def bench_check(project, results):
    """`git quickscale check` (drift of HEAD: re-render and compare the
    managed files, module trees against the note) vs `git status`, in the
    same clean project; plus `check --base HEAD~1` (the policy over the
    last commit) for information."""
    print(f"\n== check in the big project ({CHECK_RUNS} runs)")
    import json
    out = run(["git", "quickscale", "check", "--format", "json"], project)
    report = json.loads(out.stdout)
    if report["drift"]:
        sys.exit(f"bench: check found drift in the clean project:\n{out.stdout[:2000]}")
    print(f"  check: no drift, {len(report['findings'])} finding(s), state {report['state']}")
    # As in CI: a clone without notes, whose state is derived from the tree.
    ci = project.parent / "ci-clone"
    run(["git", "clone", "-q", f"file://{project}", str(ci)], project.parent)
    report = json.loads(run(["git", "quickscale", "check", "--format", "json"], ci).stdout)
    if report["drift"] or report["state"] != "derived":
        sys.exit(f"bench: check in the clone: drift={report['drift']} state={report['state']}")
    print(f"  check in a clone without notes: no drift, state {report['state']}")
    variants = [
        ("check: git status", [["git", "status"]], project),
        ("check: git quickscale check", [["git", "quickscale", "check"]], project),
        ("check: git quickscale check --format github",
         [["git", "quickscale", "check", "--format", "github"]], project),
        ("check: git quickscale check --base HEAD~1",
         [["git", "quickscale", "check", "--base", "HEAD~1"]], project),
        ("check: git status (clone without notes)", [["git", "status"]], ci),
        ("check: git quickscale check (clone without notes)", [["git", "quickscale", "check"]], ci),
    ]
    times = {}
    for _ in range(STATUS_WARMUP):
        for label, cmds, cwd in variants:
            timed(cmds, cwd)
    for _ in range(CHECK_RUNS):
        for label, cmds, cwd in variants:
            times.setdefault(label, []).append(timed(cmds, cwd))
    cwds = {label: cwd for label, _, cwd in variants}
    with_peaks(times, [(label, cmds) for label, cmds, _ in variants],
               lambda label, cmds: cwds[label])
    for label, _, _ in variants:
        results.append((label, times[label]))
    return times


# --------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--subtree", default="")
    a = ap.parse_args()
    work = Path(a.work)
    have_subtree = bool(a.subtree)

    t0 = time.perf_counter()
    print(f"\n== fixtures: {len(MODULES)} module repositories")
    for n in MODULES:
        module_repo(work, n)
    upstream = work / "upstream"
    nfiles = len(git(upstream / MODULES[0], "ls-tree", "-r", "--name-only", TAG).splitlines())
    print(f"  {nfiles} files per module at {TAG}, 3 commits and tags each "
          f"({time.perf_counter() - t0:.1f} s)")

    results = []
    print(f"  parts: {', '.join(sorted(PARTS))} (BENCH_PARTS)")
    ours_e = theirs_e = st = hk = ck = ours_u = theirs_u = vs = sm = None
    if "version" in PARTS:
        vs = bench_version(work, results)
    if "small" in PARTS:
        sm = bench_small(work, upstream, results)
    if "embed" in PARTS:
        if not have_subtree:
            print("\nSKIPPED git-subtree comparison: the git-subtree script was not found "
                  "(Debian: /usr/lib/git-core/git-subtree)")
        ours_e, theirs_e = bench_embed(work, upstream, have_subtree, results)
    if PARTS & {"status", "hook", "check"}:
        big, small = big_project(work, upstream)
        if "status" in PARTS:
            st = bench_status(big, small, results)
        if "check" in PARTS:
            ck = bench_check(big, results)
        if "hook" in PARTS:
            hk = bench_hook(big, results)
    if "update" in PARTS:
        ours_u, theirs_u = bench_update(work, upstream, have_subtree, results)

    print("\n== summary (wall time per invocation, ms)")
    print(f"{'what':<54} {'median':>9} {'min':>9} {'max':>9} {'runs':>5} {'CPU med':>9} {'peak RSS':>9}")
    for label, ts in results:
        peak_mib = max(getattr(t, "peak_kib", 0) for t in ts) / 1024
        cpu = statistics.median(getattr(t, "cpu", 0.0) for t in ts)
        print(f"{label:<54} {ms(statistics.median(ts))} {ms(min(ts))} {ms(max(ts))} {len(ts):>5}"
              f" {ms(cpu)} {peak_mib:>6.1f} MiB")

    print("\n== ratios (ours / theirs: wall time by median, [by min], and CPU time by median)")

    def ratio(a, b):
        return statistics.median(a) / statistics.median(b), min(a) / min(b)

    def cpu_ratio(a, b):
        cb = statistics.median(getattr(t, "cpu", 0.0) for t in b)
        return statistics.median(getattr(t, "cpu", 0.0) for t in a) / cb if cb else float("nan")

    def line(label, a, b, goal):
        r, rmin = ratio(a, b)
        c = cpu_ratio(a, b)
        verdict = "MEETS" if r <= goal else "MISSES"
        cpu_verdict = "MEETS" if c <= goal else "MISSES"
        print(f"{label:<54} {r:6.2f}x  [{rmin:.2f}x]  CPU {c:5.2f}x  goal <= {goal}x: "
              f"{verdict} (CPU: {cpu_verdict})")

    if vs is not None:
        line("git-quickscale --version / git --version", vs["version: git-quickscale --version"],
             vs["version: git --version"], GOAL_VERSION)
    if sm is not None:
        line("status, small project / git status", sm["small: git quickscale status"],
             sm["small: git status"], GOAL_SMALL)
        r, rmin = ratio(sm["small: git-quickscale status (direct)"], sm["small: git status"])
        print(f"{'  (git-quickscale status direct / git status)':<54} {r:6.2f}x  [{rmin:.2f}x]")
        for label, direct in (("  (with __pycache__s: git quickscale status)",
                               "small+pycache: git quickscale status"),
                              ("  (with __pycache__s: direct)",
                               "small+pycache: git-quickscale status (direct)")):
            r, rmin = ratio(sm[direct], sm["small+pycache: git status"])
            print(f"{label:<54} {r:6.2f}x  [{rmin:.2f}x]")
        line("pre-commit hook, small project / git diff --cached",
             sm["small: pre-commit (installed shim)"],
             sm["small: git diff --cached --name-only"], GOAL_SMALL)
        r, rmin = ratio(sm["small: git-quickscale hooks run pre-commit"],
                        sm["small: git diff --cached --name-only"])
        print(f"{'  (hooks run pre-commit direct / git diff --cached)':<54} {r:6.2f}x  [{rmin:.2f}x]")
    if ours_e is None:
        pass
    elif have_subtree:
        line("apply (5 modules) / 5x git subtree add --squash", ours_e, theirs_e, GOAL_EMBED)
    else:
        print("apply / git subtree add: SKIPPED (git-subtree not found)")
    if ours_u is None:
        pass
    elif have_subtree:
        line(f"update --all ({UPDATE_MODULES} modules) / {UPDATE_MODULES}x git subtree pull",
             ours_u, theirs_u, GOAL_UPDATE)
    else:
        print("update / git subtree pull: SKIPPED (git-subtree not found)")
    if st is not None:
        g = st["status: git status"]
        gp = st["status: git status --porcelain"]
        line("git quickscale status / git status", st["status: git quickscale status"], g, GOAL_STATUS)
        line("git quickscale status / git status --porcelain",
             st["status: git quickscale status"], gp, GOAL_STATUS)
        line("git quickscale status --json / git status",
             st["status: git quickscale status --json"], g, GOAL_STATUS)
        line("git quickscale status --json / git status --porcelain",
             st["status: git quickscale status --json"], gp, GOAL_STATUS)
    if ck is not None:
        g = ck["check: git status"]
        line("git quickscale check / git status", ck["check: git quickscale check"], g, GOAL_CHECK)
        line("git quickscale check --format github / git status",
             ck["check: git quickscale check --format github"], g, GOAL_CHECK)
        line("check, clone without notes / git status there",
             ck["check: git quickscale check (clone without notes)"],
             ck["check: git status (clone without notes)"], GOAL_CHECK)
        r, rmin = ratio(ck["check: git quickscale check --base HEAD~1"], g)
        print(f"{'check --base HEAD~1 / git status (no goal)':<54} {r:6.2f}x  [{rmin:.2f}x]")
    if hk is not None:
        line("pre-commit hook (shim) / git diff --cached --name-only",
             hk["hook: pre-commit (installed shim)"], hk["hook: git diff --cached --name-only"], GOAL_HOOK)
        line("hooks run pre-commit (direct) / git diff --cached",
             hk["hook: git-quickscale hooks run pre-commit"], hk["hook: git diff --cached --name-only"], GOAL_HOOK)
    print(f"\nmachine: nproc {os.cpu_count()}, {platform.system()} {platform.release()}, "
          f"{git(work, '--version').strip()}; load average now "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; total bench time {time.perf_counter() - t0:.0f} s")
    if CREATE_COSTS:
        print(f"file creation in the work directory: {', '.join(CREATE_COSTS)} per file "
              "(an idle disk here: ~120 µs; see benches/README.md, \"7 December\")")


if __name__ == "__main__":
    main()
