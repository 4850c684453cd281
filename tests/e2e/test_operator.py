#!/usr/bin/env python3
"""The operator's commands that need no journal (issue 9, parts 5 and 6): mailjournald -n,
mailjournal config, mailjournal check-postfix and mailjournal help.

* mailjournald -n reports configuration, policy and key-file problems together in one run
  (exit 78), warnings apart (exit 0 with warnings only).
* config --defaults / --changed / NAME... against a configuration file; the same names and
  defaults as mailjournald --help's options (one table).
* check-postfix against a real Postfix configuration directory (harness.PostfixInstance's
  main.cf and master.cf, read by postconf -c DIR; Postfix is not started): the harness's
  configuration is clean, and each broken variant gives its warning and exit 1.
* help CMD prints the command's man page (its NAME line), from the source tree's man/.

Run: python3 tests/e2e/test_operator.py   (as root; exit 77 = skipped, prerequisites missing)
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def tool(*args):
    return subprocess.run([harness.MAILJOURNAL] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=60, text=True)


class TempBase(harness.E2ETestCase):
    def setUp(self):
        self.base = tempfile.mkdtemp(prefix="mj-e2e-operator-")
        self.addCleanup(shutil.rmtree, self.base, True)
        os.chmod(self.base, 0o755)


class CheckModeTest(TempBase):
    def daemon_check(self, *args):
        return subprocess.run([harness.MAILJOURNALD, "-n"] + list(args), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=60, text=True)

    def setUp(self):
        super().setUp()
        self.run_dir = os.path.join(self.base, "run")
        os.mkdir(self.run_dir)
        self.policy = harness.write_policy_dir(os.path.join(self.base, "policy"), harness.DEFAULT_POLICY)
        self.journal = os.path.join(self.base, "journal")
        os.mkdir(self.journal, 0o750)
        shutil.chown(self.journal, user=harness.DAEMON_USER)
        self.common = ["--user", harness.DAEMON_USER, "--journal", self.journal,
                       "--milter-socket", "unix:" + os.path.join(self.run_dir, "m.sock"),
                       "--admin-socket", os.path.join(self.run_dir, "a.sock"),
                       "--index-keys", os.path.join(self.base, "index-keys")]

    def test_config_policy_and_key_problems_in_one_run(self):
        bad_policy = harness.write_policy_dir(
            os.path.join(self.base, "bad-policy"),
            harness.DEFAULT_POLICY.replace("retention: standard", "retention: nine_years"))
        key = os.path.join(self.base, "checkpoint.key")
        with open(key, "w") as f:
            f.write("not a signing key\n")
        os.chmod(key, 0o644)
        p = self.daemon_check(*(self.common + ["--socket-mode", "99999", "--policy", bad_policy,
                                               "--signing-key", key,
                                               "--checkpoint-dir", os.path.join(self.base, "none")]))
        self.assertEqual(p.returncode, 78, p.stderr)
        lines = p.stderr.splitlines()
        self.assertIn("mailjournald: socket_mode: '99999' is not an octal mode such as 0660", lines)
        self.assertTrue(any("unknown retention class 'nine_years'" in l for l in lines), p.stderr)
        self.assertTrue(any(l.startswith("mailjournald: signing_key %s: not a signer key" % key)
                            for l in lines), p.stderr)
        self.assertTrue(any(l.startswith("mailjournald: checkpoint_dir %s/none: " % self.base)
                            for l in lines), p.stderr)
        self.assertIn("mailjournald: warning: signing_key %s: mode 0644: group or others may use "
                      "the signing key (chmod 600)" % key, lines)
        self.assertEqual(lines[-1], "mailjournald: 4 errors")

    def test_warnings_alone_do_not_fail(self):
        os.chmod(self.journal, 0o755)
        p = self.daemon_check(*(self.common + ["--policy", self.policy]))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr, "mailjournald: warning: journal %s: mode 0755: others may read "
                                   "the journal (chmod o-rwx)\n"
                                   "mailjournald: warning: signing_key: not set: the journal is not "
                                   "checkpointed, so verify cannot show that it was not changed "
                                   "(mailjournald(8), CHECKPOINTS)\n"
                                   "mailjournald: configuration ok\n" % self.journal)

    def test_directories_the_user_cannot_use(self):
        cp = os.path.join(self.base, "checkpoints")
        os.mkdir(cp, 0o755)  # root's: the daemon's user cannot write there
        os.chmod(self.journal, 0o700)
        shutil.chown(self.journal, user="root")
        p = self.daemon_check(*(self.common + ["--policy", self.policy, "--signing-key",
                                               self.signing_key(), "--checkpoint-dir", cp]))
        self.assertEqual(p.returncode, 78, p.stderr)
        self.assertIn("mailjournald: checkpoint_dir %s: user %s cannot write to it" % (cp, harness.DAEMON_USER),
                      p.stderr.splitlines())
        self.assertIn("mailjournald: journal %s: not owned by user %s" % (self.journal, harness.DAEMON_USER),
                      p.stderr.splitlines())

    def test_policy_the_user_cannot_read(self):
        # The daemon loads the policy after it has become its user; -n runs as root.
        policy_dir = os.path.dirname(self.policy)
        os.chmod(policy_dir, 0o700)
        p = self.daemon_check(*(self.common + ["--policy", self.policy]))
        self.assertEqual(p.returncode, 78, p.stderr)
        self.assertIn("mailjournald: policy %s: user %s cannot read it (%s: not searchable); the daemon "
                      "loads the policy as %s" % (self.policy, harness.DAEMON_USER, policy_dir, harness.DAEMON_USER),
                      p.stderr.splitlines())

    def signing_key(self):
        out = os.path.join(self.base, "signing")
        os.mkdir(out)
        harness.run([harness.MAILJOURNAL, "keygen", "--signing", "test.invalid/journal", "-o", out])
        return os.path.join(out, "checkpoint.key")


class ConfigCommandTest(TempBase):
    def test_defaults_changed_and_names(self):
        conf = os.path.join(self.base, "mailjournald.conf")
        with open(conf, "w") as f:
            f.write("journal = /var/lib/mailjournal\n"      # the default: not a change
                    "checkpoint_interval = 300\n"
                    "user = mailjournal\n"
                    "# metrics_dir = /commented/out\n")
        changed = tool("config", "--changed", "-c", conf)
        self.assertEqual(changed.returncode, 0, changed.stderr)
        self.assertEqual(changed.stdout, "user = mailjournal\ncheckpoint_interval = 300\n")
        defaults = tool("config", "--defaults")
        self.assertEqual(defaults.returncode, 0, defaults.stderr)
        self.assertIn("journal = /var/lib/mailjournal\n", defaults.stdout)
        self.assertIn("signing_key =\n", defaults.stdout)
        self.assertIn("checkpoint_interval = 60\n", defaults.stdout)
        effective = tool("config", "-c", conf)
        self.assertIn("checkpoint_interval = 300\n", effective.stdout)
        self.assertIn("journal = /var/lib/mailjournal\n", effective.stdout)
        self.assertEqual(tool("config", "-c", conf, "user", "journal").stdout,
                         "user = mailjournal\njournal = /var/lib/mailjournal\n")
        unknown = tool("config", "no_such_setting")
        self.assertEqual(unknown.returncode, 64, unknown.stderr)

        # Every setting is an option of mailjournald, and nothing else is (one table).
        names = [line.split(" =")[0] for line in defaults.stdout.splitlines()]
        help_text = subprocess.run([harness.MAILJOURNALD, "--help"], stdout=subprocess.PIPE,
                                   text=True, timeout=30).stdout
        options = set(re.findall(r"^\s+--([a-z0-9-]+)", help_text, re.M)) - {"help", "version", "config"}
        self.assertEqual(sorted(n.replace("_", "-") for n in names), sorted(options))

    def test_errors_in_the_file(self):
        conf = os.path.join(self.base, "bad.conf")
        with open(conf, "w") as f:
            f.write("checkpoint_interval = 5\nno_such_key = 1\n")
        p = tool("config", "--changed", "-c", conf)
        self.assertEqual(p.returncode, 78, p.stderr)
        self.assertEqual(p.stdout, "checkpoint_interval = 5\n")
        self.assertEqual(p.stderr, "mailjournal: %s:2: unknown setting 'no_such_key'\n" % conf)


class CheckPostfixTest(TempBase):
    MILTER = "unix:mailjournal/milter.sock"

    def postfix(self, extra_main=None, extra_master="", milters=MILTER):
        inst = harness.PostfixInstance(os.path.join(self.base, "pf%d" % len(os.listdir(self.base))),
                                       relay_port=2525, milter_spec=milters, extra_main=extra_main)
        inst.write_config(extra_master)
        return inst

    def check(self, inst, *args):
        return tool("check-postfix", "-c", inst.conf_dir, "--milter", self.MILTER, *args)

    def assert_warns(self, inst, *parts):
        p = self.check(inst)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        warnings = [l for l in p.stdout.splitlines() if l.startswith("warning: ")]
        self.assertEqual(len(warnings), len(parts), p.stdout)
        for part in parts:
            self.assertTrue(any(part in w for w in warnings), "%r not in:\n%s" % (part, p.stdout))

    def test_the_harness_configuration_is_clean(self):
        inst = self.postfix()
        p = self.check(inst)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertNotIn("warning:", p.stdout)
        self.assertIn("postfix: no bypass of the journal milter %s found" % self.MILTER, p.stdout)
        self.assertIn("note: main.cf: internal_mail_filter_classes =", p.stdout)
        # The journal named by mailjournald's configuration (libmilter's spelling) instead.
        conf = os.path.join(self.base, "mailjournald.conf")
        with open(conf, "w") as f:
            f.write("milter_socket = unix:%s/mailjournal/milter.sock\n" % inst.queue_dir)
        p = tool("check-postfix", "-c", inst.conf_dir, "--config", conf)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        other = os.path.join(self.base, "other.conf")
        with open(other, "w") as f:
            f.write("milter_socket = inet:10029@127.0.0.1\n")
        p = tool("check-postfix", "-c", inst.conf_dir, "--config", other)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("postfix: 2 bypasses of the journal milter inet:10029@127.0.0.1", p.stdout)

    def test_missing_from_non_smtpd_milters(self):
        self.assert_warns(self.postfix(extra_main={"non_smtpd_milters": ""}),
                          "main.cf: non_smtpd_milters = : the journal milter is missing")

    def test_missing_from_smtpd_milters(self):
        self.assert_warns(self.postfix(extra_main={"smtpd_milters": "inet:127.0.0.1:8891"}),
                          "main.cf: smtpd_milters = inet:127.0.0.1:8891: the journal milter is missing")

    def test_not_last(self):
        milters = self.MILTER + ", inet:127.0.0.1:8891"
        self.assert_warns(self.postfix(milters=milters),
                          "main.cf: smtpd_milters = %s: the journal milter is not last" % milters,
                          "main.cf: non_smtpd_milters = %s: the journal milter is not last" % milters)

    def test_default_action_not_tempfail(self):
        self.assert_warns(self.postfix(extra_main={"milter_default_action": "accept"}),
                          "smtpd_milters = %s: the journal milter's default action is 'accept'" % self.MILTER,
                          "non_smtpd_milters = %s: the journal milter's default action is 'accept'" % self.MILTER)
        # the per-milter action of the journal wins over the global one
        own = "{ %s, default_action=tempfail }" % self.MILTER
        inst = self.postfix(extra_main={"milter_default_action": "accept"}, milters=own)
        p = self.check(inst)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_master_cf_overrides(self):
        extra = ("submission inet n - n - - smtpd -o smtpd_milters=\n"
                 "127.0.0.1:10025 inet n - n - - smtpd\n"
                 "  -o { receive_override_options = no_unknown_recipient_checks, no_milters }\n"
                 "relay2 unix - - n - - smtp -o non_smtpd_milters=$smtpd_milters,inet:127.0.0.1:1\n")
        self.assert_warns(self.postfix(extra_master=extra),
                          "master.cf service submission/inet: smtpd_milters = : the journal milter is missing",
                          "master.cf service 127.0.0.1:10025/inet: receive_override_options = "
                          "no_unknown_recipient_checks, no_milters: no_milters",
                          "master.cf service relay2/unix: non_smtpd_milters = %s,inet:127.0.0.1:1: "
                          "the journal milter is not last" % self.MILTER)

    def test_no_milters_and_content_filter_in_main_cf(self):
        self.assert_warns(self.postfix(extra_main={"receive_override_options": "no_milters",
                                                   "content_filter": "smtp:[127.0.0.1]:10024"}),
                          "main.cf: receive_override_options = no_milters",
                          "main.cf: content_filter = smtp:[127.0.0.1]:10024")

    def test_postconf_failure(self):
        p = tool("check-postfix", "-c", os.path.join(self.base, "no-such-dir"), "--milter", self.MILTER)
        self.assertEqual(p.returncode, 69, p.stdout + p.stderr)
        self.assertIn("mailjournal: check-postfix: postconf -c", p.stderr)


class HelpTest(unittest.TestCase):
    def test_help_shows_the_command_page(self):
        for command, name in (("search", "mailjournal-search"), ("reindex", "mailjournal-search"),
                              ("hold", "mailjournal-hold"), ("purge", "mailjournal-purge"),
                              ("audit", "mailjournal-audit"), ("list", "mailjournal"),
                              ("check-postfix", "mailjournal"), ("", "mailjournal")):
            with self.subTest(command=command):
                p = tool("help", *([command] if command else []))
                self.assertEqual(p.returncode, 0, p.stderr)
                # The NAME section's line, "mailjournal-search - ..." (man renders the
                # dash as "-" or "—"), and plain text: no overstrike.
                self.assertRegex(p.stdout, r"(?m)^NAME\n\s+%s [-–—]" % re.escape(name))
                self.assertNotIn("\b", p.stdout)

    def test_help_without_man_uses_mandoc(self):
        bin_dir = tempfile.mkdtemp(prefix="mj-e2e-bin-")
        self.addCleanup(shutil.rmtree, bin_dir, True)
        for program in ("mandoc",):
            path = shutil.which(program)
            if path is None:
                self.skipTest("no " + program)
            os.symlink(path, os.path.join(bin_dir, program))
        p = subprocess.run([harness.MAILJOURNAL, "help", "purge"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60, text=True, env={"PATH": bin_dir})
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r"(?m)^NAME\n\s+mailjournal-purge [-–—]")
        self.assertNotIn("\b", p.stdout)
        none = subprocess.run([harness.MAILJOURNAL, "help", "purge"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=60, text=True, env={"PATH": "/nonexistent"})
        self.assertEqual(none.returncode, 69, none.stderr)

    def test_unknown_command(self):
        p = tool("help", "no-such-command")
        self.assertEqual(p.returncode, 64, p.stderr)
        p = tool("help", "policy", "no-such-command")
        self.assertEqual(p.returncode, 64, p.stderr)
        self.assertIn("help: no command 'policy no-such-command'", p.stderr)

    def test_help_of_a_command_of_a_command(self):
        for words, name in ((("policy", "check"), "mailjournal"), (("hold", "add"), "mailjournal-hold")):
            p = tool("help", *words)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertRegex(p.stdout, r"(?m)^NAME\n\s+%s [-–—]" % re.escape(name))


if __name__ == "__main__":
    harness.main()
