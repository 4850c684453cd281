#!/usr/bin/env python3
"""Every command and option of the programs is in their man pages (run by lint-man.sh).

For each subcommand `mailjournal --help` lists (and each of theirs, e.g. policy check), some
man/mailjournal*.8 page must name it (".Cm NAME" or ".Cm PARENT NAME"), and every long option
its --help shows must appear as "Fl \\-OPTION" in a page that names the command. Every long
option of `mailjournald --help` must be in mailjournald.8, and its table of defaults
(CONFIGURATION FILE) must be the daemon's (`mailjournal config --defaults`). Every page's
SEE ALSO must name every other page of man/.

Usage: man-coverage.py MAN_DIR MAILJOURNAL MAILJOURNALD
"""

import glob
import os
import re
import subprocess
import sys


def help_text(argv):
    return subprocess.run(argv + ["--help"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=30).stdout


def subcommands(text):
    part = text.split("Subcommands:", 1)
    if len(part) < 2:
        return []
    return re.findall(r"^  ([a-z][a-z-]*)\s", part[1], re.M)


def long_options(text):
    options = set(re.findall(r"^\s+(?:-\w,)?--([a-z][a-z0-9-]*)", text.split("Subcommands:")[0], re.M))
    return options - {"help", "version"}


def main():
    man_dir, tool, daemon = sys.argv[1:4]
    # "\-" is how the pages write a hyphen in options and command names.
    pages = {os.path.basename(p): open(p, encoding="utf-8").read().replace("\\-", "-")
             for p in glob.glob(os.path.join(man_dir, "*.[1-9]"))}
    tool_pages = {n: t for n, t in pages.items() if n.startswith("mailjournal") and n.endswith(".8")
                  and n != "mailjournald.8"}
    problems = []
    global_options = long_options(help_text([tool]))

    def check(path):
        text = help_text([tool] + path)
        name = " ".join(path)
        naming = [n for n, t in tool_pages.items()
                  if re.search(r"(?m)\bCm %s(\s|$)" % re.escape(name), t)]
        if not naming:
            problems.append("mailjournal %s: no page names it (.Cm %s)" % (name, name))
            return
        for option in sorted(long_options(text) - global_options):
            flag = "Fl -" + option
            if not any(re.search(re.escape(flag) + r"(?![\w\\-])", tool_pages[n]) for n in naming):
                problems.append("mailjournal %s --%s: not in %s" % (name, option, ", ".join(sorted(naming))))
        for sub in subcommands(text):
            check(path + [sub])

    for option in sorted(global_options):
        flag = "Fl -" + option
        if flag not in pages.get("mailjournal.8", ""):
            problems.append("mailjournal --%s: not in mailjournal.8" % option)
    for sub in subcommands(help_text([tool])):
        check([sub])
    for option in sorted(long_options(help_text([daemon]))):
        flag = "Fl -" + option
        if not re.search(re.escape(flag) + r"(?![\w\\-])", pages.get("mailjournald.8", "")):
            problems.append("mailjournald --%s: not in mailjournald.8" % option)
    # The defaults table of mailjournald(8), CONFIGURATION FILE, against the daemon's own
    # (mailjournal config --defaults prints the settings table of milter/config.cc).
    defaults = subprocess.run([tool, "config", "--defaults"], stdout=subprocess.PIPE, text=True,
                              timeout=30).stdout
    actual = {}
    for line in defaults.splitlines():
        name, _, value = line.partition(" =")
        actual[name] = value.strip() or "none"
    section = pages.get("mailjournald.8", "").split(".Sh CONFIGURATION FILE", 1)[-1].split("\n.Sh ", 1)[0]
    documented = {m.group(1): m.group(2).strip()
                  for m in re.finditer(r"(?m)^\.It Li (\w+) Ta (?:Pa |Li )?(.*)$", section)}
    if documented != actual:
        for name in sorted(set(documented) | set(actual)):
            if documented.get(name) != actual.get(name):
                problems.append("mailjournald.8, CONFIGURATION FILE: %s is %s, the daemon's default %s"
                                % (name, documented.get(name, "missing"), actual.get(name, "missing")))
    for name, text in sorted(pages.items()):
        see_also = text.split(".Sh SEE ALSO", 1)[-1].split("\n.Sh ", 1)[0]
        for other in sorted(pages):
            page, section = other.rsplit(".", 1)
            if other != name and ".Xr %s %s" % (page, section) not in see_also:
                problems.append("%s: SEE ALSO does not name %s(%s)" % (name, page, section))
    for p in problems:
        print("man pages: " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
