"""Docs and completions stay in step with the C option tables.

Reads every `struct option` array in src/ (and the *_LONGOPTS macros they
include), every getenv() call and the command table, and fails when an
option, variable or command is missing from a completion file, a man page or
README.md. Stdlib only; WASMPULL_SRCDIR is the project root.
"""
import os
import re
import shutil
import subprocess
import unittest

SRCDIR = os.environ.get("WASMPULL_SRCDIR") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SRC = os.path.join(SRCDIR, "src")
MAN = os.path.join(SRCDIR, "man")
COMPLETIONS = os.path.join(SRCDIR, "completions")

# Placeholders man/meson.build substitutes; any other @NAME@ would vanish.
MAN_VARS = {"VERSION": "0.0.0", "DEFAULT_TIMEOUT": "5m",
            "DEFAULT_RETRIES": "5", "DEFAULT_MAX_SIZE": "256MiB",
            "DEFAULT_GC_AGE": "24h"}
SECTIONS = ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "ENVIRONMENT",
            "FILES", "EXIT STATUS", "EXAMPLES", "SEE ALSO"]
CACHE_SUBCOMMANDS = ["ls", "gc", "rm", "verify"]
OVERVIEW = "wasmpull.1.scd"
GLOBAL_MACRO = "GLOBAL_LONGOPTS"

ENTRY = re.compile(r'\{\s*"([^"]+)"\s*,\s*(no_argument|required_argument|'
                   r'optional_argument|[0-9])\s*,\s*[^,{}]+,\s*([^,{}]+?)\s*\}')


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def strip_c_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def c_sources():
    return sorted(os.path.join(SRC, f) for f in os.listdir(SRC)
                  if f.endswith((".c", ".h")))


class Option:
    def __init__(self, name, short, origin, page):
        self.name, self.short, self.origin, self.page = name, short, origin, page

    def __repr__(self):
        return "--%s (%s)" % (self.name, self.origin)


def parse_entries(body):
    """(long name, short letter or None) for each struct option entry."""
    out = []
    for name, _, val in ENTRY.findall(body):
        m = re.fullmatch(r"'(.)'", val.strip())
        out.append((name, m.group(1) if m else None))
    return out


def parse_macros():
    """{macro name: (file, entries)} for #defines that hold option entries."""
    macros = {}
    for path in c_sources():
        text = strip_c_comments(read(path)).replace("\\\n", " ")
        for m in re.finditer(r"^[ \t]*#[ \t]*define[ \t]+(\w+)[ \t]+(.*)$",
                             text, flags=re.M):
            entries = parse_entries(m.group(2))
            if entries:
                macros[m.group(1)] = (os.path.basename(path), entries)
    return macros


def option_arrays():
    """(file, array body) for every `struct option NAME[] = {...}`."""
    for path in c_sources():
        text = strip_c_comments(read(path))
        for m in re.finditer(r"struct\s+option\s+\w+\s*\[[^\]]*\]\s*=\s*\{", text):
            depth, i = 1, m.end()
            while depth and i < len(text):
                depth += {"{": 1, "}": -1}.get(text[i], 0)
                i += 1
            yield os.path.basename(path), text[m.end():i - 1]


def page_for(filename):
    """The man page a command file's own options belong on."""
    m = re.fullmatch(r"cmd-(\w+)\.c", filename)
    if m:
        return "wasmpull-%s.1.scd" % m.group(1)
    return OVERVIEW if filename in ("main.c", "cmd.h") else None


def collect_options():
    """Every option of the C tables, each with the page it must be on."""
    macros = parse_macros()
    options, used_macros = [], set()
    for filename, body in option_arrays():
        page = page_for(filename)
        for name, short in parse_entries(body):
            options.append(Option(name, short, filename, page))
        for macro in re.findall(r"\b([A-Z][A-Z0-9_]*)\b", body):
            if macro not in macros:
                continue
            used_macros.add(macro)
            mpage = OVERVIEW if macro == GLOBAL_MACRO else page
            for name, short in macros[macro][1]:
                options.append(Option(name, short, "%s in %s" % (macro, filename), mpage))
    for macro, (filename, entries) in macros.items():
        if macro not in used_macros or macro == GLOBAL_MACRO:
            page = OVERVIEW if macro == GLOBAL_MACRO else None
            for name, short in entries:
                options.append(Option(name, short, "%s in %s" % (macro, filename), page))
    return options


def commands():
    """Command names from main.c's table, plus the built-in help."""
    text = strip_c_comments(read(os.path.join(SRC, "main.c")))
    names = re.findall(r"&cmd_(\w+)", text)
    return list(dict.fromkeys(names)) + ["help"]


def scd_pages():
    return sorted(f for f in os.listdir(MAN) if f.endswith(".scd"))


def sections(text):
    """{section title: body} of an scdoc page."""
    parts = re.split(r"^# (.+)$", text, flags=re.M)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}


def documented_options(text):
    """Long and short options that head an option entry (`*-o*, *--output*`)."""
    longs, shorts = set(), set()
    for line in text.splitlines():
        if line.startswith("*-"):
            longs.update(re.findall(r"--([a-z0-9][a-z0-9-]*)", line))
            shorts.update(re.findall(r"(?<![\w-])-([A-Za-z0-9])(?![\w-])", line))
    return longs, shorts


def completion_options(shell, text):
    """Long and short options a completion file offers."""
    if shell == "fish":
        text = "\n".join(l for l in text.splitlines() if l.lstrip().startswith("complete "))
        longs = set(re.findall(r"(?:\s-l|--long-option)\s+['\"]?([a-z0-9][a-z0-9-]*)", text))
        shorts = set(re.findall(r"(?:\s-s|--short-option)\s+['\"]?([A-Za-z0-9])\b", text))
    else:
        longs = set(re.findall(r"(?<![\w-])--([a-z0-9][a-z0-9-]*)", text))
        shorts = set(re.findall(r"(?<![\w-])-([A-Za-z0-9])(?![\w-])", text))
    return longs, shorts


COMPLETION_FILES = {"bash": "wasmpull.bash", "zsh": "_wasmpull", "fish": "wasmpull.fish"}


class DocsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.options = collect_options()
        cls.pages = {p: read(os.path.join(MAN, p)) for p in scd_pages()}

    def test_option_tables_found(self):
        names = {o.name for o in self.options}
        # Sanity: the parser still understands the tables.
        for name in ("cache-dir", "verbose", "quiet", "help", "version", "sha256", "policy"):
            self.assertTrue(name in names, "parser found no --%s in src/" % name)
        for f in ("cmd-pull.c", "cmd-inspect.c", "cmd-cache.c"):
            if os.path.exists(os.path.join(SRC, f)) and \
                    not any(o.origin.endswith(f) for o in self.options):
                print("note: no option table in src/%s yet" % f)

    def test_completions_have_every_option(self):
        for shell, fname in COMPLETION_FILES.items():
            path = os.path.join(COMPLETIONS, fname)
            self.assertTrue(os.path.exists(path), "missing completions/%s" % fname)
            longs, shorts = completion_options(shell, read(path))
            for o in self.options:
                with self.subTest(shell=shell, option=o.name):
                    self.assertTrue(o.name in longs, "completions/%s lacks --%s (from %s)"
                                  % (fname, o.name, o.origin))
                    if o.short:
                        self.assertTrue(o.short in shorts, "completions/%s lacks -%s (--%s, from %s)"
                                      % (fname, o.short, o.name, o.origin))

    def test_no_stale_option(self):
        # The reverse direction (tio's completion offers -o where it takes -O).
        known_long = {o.name for o in self.options}
        known_short = {o.short for o in self.options if o.short}
        for f in ("cmd-pull.c", "cmd-inspect.c", "cmd-cache.c"):
            if not any(o.origin.endswith(f) for o in self.options):
                self.skipTest("src/%s has no option table yet" % f)
        for shell, fname in COMPLETION_FILES.items():
            longs, shorts = completion_options(shell, read(os.path.join(COMPLETIONS, fname)))
            if shell != "fish":
                shorts = set()  # bash/zsh texts hold shell flags too; fish's -s is exact
            self.assertEqual(longs - known_long, set(),
                             "completions/%s offers options the program lacks" % fname)
            self.assertEqual(shorts - known_short, set(),
                             "completions/%s offers short options the program lacks" % fname)
        for page, text in self.pages.items():
            longs, shorts = documented_options(text)
            self.assertEqual(longs - known_long, set(),
                             "man/%s documents options the program lacks" % page)
            self.assertEqual(shorts - known_short, set(),
                             "man/%s documents short options the program lacks" % page)

    def test_man_pages_have_every_option(self):
        every_long, every_short = set(), set()
        per_page = {p: documented_options(t) for p, t in self.pages.items()}
        for longs, shorts in per_page.values():
            every_long |= longs
            every_short |= shorts
        for o in self.options:
            with self.subTest(option=o.name, page=o.page):
                self.assertTrue(o.name in every_long, "no man page documents --%s (from %s)"
                              % (o.name, o.origin))
                if o.page is None:
                    continue
                self.assertTrue(o.page in per_page, "man/%s is missing (for --%s from %s)"
                              % (o.page, o.name, o.origin))
                longs, shorts = per_page[o.page]
                self.assertTrue(o.name in longs, "man/%s does not document --%s (from %s)"
                              % (o.page, o.name, o.origin))
                if o.short:
                    self.assertTrue(o.short in shorts, "man/%s does not document -%s, --%s"
                                  % (o.page, o.short, o.name))

    def test_environment_documented(self):
        names = set()
        for path in c_sources():
            names.update(re.findall(r'\bgetenv\s*\(\s*"([A-Za-z_][A-Za-z0-9_]*)"',
                                    strip_c_comments(read(path))))
        self.assertTrue("WASMPULL_CACHE_DIR" in names, "parser found no getenv() calls")
        envs = "".join(sections(t).get("ENVIRONMENT", "") for t in self.pages.values())
        for name in sorted(names):
            with self.subTest(variable=name):
                self.assertTrue(re.search(r"\b%s\b" % re.escape(name), envs),
                                "getenv(\"%s\") is not in any ENVIRONMENT section" % name)

    def test_pages_exist_and_have_sections(self):
        expected = [OVERVIEW] + ["wasmpull-%s.1.scd" % c for c in commands() if c != "help"]
        for page in expected:
            with self.subTest(page=page):
                self.assertTrue(page in self.pages, "man/%s is missing" % page)
                titles = list(sections(self.pages[page]))
                present = [s for s in titles if s in SECTIONS]
                self.assertEqual(present, SECTIONS, "man/%s: sections missing or out of order"
                                 % page)

    def test_placeholders_known(self):
        for page, text in self.pages.items():
            for name in re.findall(r"@([-A-Za-z0-9_]+)@", text):
                with self.subTest(page=page, placeholder=name):
                    self.assertTrue(name in MAN_VARS, "man/%s: @%s@ is not set in man/meson.build"
                                  % (page, name))
        build = read(os.path.join(MAN, "meson.build"))
        for name in MAN_VARS:
            self.assertTrue("'%s'" % name in build, "man/meson.build does not set %s" % name)
        for page in self.pages:
            self.assertTrue(page[:-len(".1.scd")] in build, "man/meson.build does not build %s" % page)

    def test_overview_lists_commands(self):
        listed = sections(self.pages.get(OVERVIEW, "")).get("COMMANDS", "")
        for cmd in commands():
            self.assertTrue(re.search(r"(?m)^\*%s[* ]" % cmd, listed),
                            "man/%s: COMMANDS does not list %s" % (OVERVIEW, cmd))
        cache = self.pages.get("wasmpull-cache.1.scd", "")
        for sub in CACHE_SUBCOMMANDS:
            self.assertTrue(re.search(r"(?m)^\*%s\*" % sub, cache),
                            "man/wasmpull-cache.1.scd has no entry for %s" % sub)

    def test_completions_have_commands(self):
        for shell, fname in COMPLETION_FILES.items():
            text = read(os.path.join(COMPLETIONS, fname))
            for word in commands() + CACHE_SUBCOMMANDS:
                with self.subTest(shell=shell, command=word):
                    self.assertTrue(re.search(r"(?<![\w-])%s(?![\w-])" % word, text),
                                    "completions/%s lacks %s" % (fname, word))

    @unittest.skipUnless(shutil.which("scdoc"), "scdoc not on PATH")
    def test_scdoc_builds(self):
        for page, text in self.pages.items():
            for name, value in MAN_VARS.items():
                text = text.replace("@%s@" % name, value)
            with self.subTest(page=page):
                r = subprocess.run(["scdoc"], input=text.encode(), stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, timeout=60)
                self.assertEqual(r.returncode, 0, "scdoc man/%s: %s"
                                 % (page, r.stderr.decode(errors="replace").strip()))
                self.assertEqual(r.stderr, b"")
                self.assertTrue(b".TH" in r.stdout)

    def test_readme_mentions_commands(self):
        path = os.path.join(SRCDIR, "README.md")
        if not os.path.exists(path):
            self.skipTest("no README.md yet")
        text = read(path)
        for cmd in commands():
            self.assertTrue(re.search(r"wasmpull (\S+ )*%s\b" % cmd, text),
                            "README.md lacks %s" % cmd)
        for sub in CACHE_SUBCOMMANDS:
            self.assertTrue("wasmpull cache " + sub in text, "README.md lacks cache " + sub)


if __name__ == "__main__":
    unittest.main()
