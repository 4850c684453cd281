#!/usr/bin/env python3
"""Live demo: Postfix on 127.0.0.1 -> mailjournald -> journal; then the mailjournal tool.

Uses the end-to-end test fixture (tests/e2e/harness.py): a private Postfix instance relaying
to a local sink, with mailjournald as its milter, all in one temporary directory that is
removed at the end.
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "e2e"))
import harness  # noqa: E402

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
POLICY = os.path.join(REPO, "contrib", "policy.yaml")
POLICY_FILES = ["policy/brokerage-staff.txt"]  # include lists, relative to the policy

MESSAGES = [
    ("alice@retail.bank.example", ["bob@securities.bank.example", "client@example.net"],
     b"From: Alice <alice@retail.bank.example>\r\nTo: Bob <bob@securities.bank.example>\r\n"
     b"Subject: Q3 bond allocation\r\n\r\nBob, please confirm the allocation by Friday.\r\n"),
    ("sales@insurance.bank.example", ["client@example.net"],
     b"From: sales@insurance.bank.example\r\nTo: client@example.net\r\n"
     b"Subject: =?UTF-8?B?55CG6LSi5Lqn5ZOB6K+05piO?=\r\nMIME-Version: 1.0\r\n"
     b"Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
     + "本产品不保本，过往业绩不代表未来表现。\r\n".encode("utf-8")),
    ("fx-desk@bank.example", ["desk@broker.example"],
     b"From: fx-desk@bank.example\r\nTo: desk@broker.example\r\nSubject:x\r\n\r\n"
     b"Header without a space after the colon, kept exactly.\r\n"),
]


def show(tool_args, env, check=True):
    cmd = [harness.MAILJOURNAL, "--socket", env.daemon.admin_sock] + tool_args
    print("\n$ mailjournal --socket %s %s" % (env.daemon.admin_sock, " ".join(tool_args)))
    sys.stdout.flush()
    rc = subprocess.run(cmd).returncode
    if check and rc != 0:
        raise SystemExit("demo: mailjournal exited %d" % rc)


def main():
    problems = harness.require_environment() + harness.require_binaries(
        harness.MAILJOURNALD, harness.MAILJOURNAL)
    if problems:
        raise SystemExit("demo: " + "; ".join(problems))
    files = {}
    for rel in POLICY_FILES:
        with open(os.path.join(os.path.dirname(POLICY), rel)) as f:
            files[rel] = f.read()
    with open(POLICY) as f:
        policy = f.read()
    with harness.E2E(policy=policy, policy_files=files) as env:
        print("Postfix listens on 127.0.0.1:%d; mailjournald on %s" % (
            env.postfix.smtp_port, env.daemon.milter_spec))
        for sender, rcpts, raw in MESSAGES:
            r = env.send_ok(raw, mail_from=sender, rcpts=rcpts)
            print("sent %-22s -> %-45s %s" % (sender, ",".join(rcpts), r.reply.decode()))
        env.wait_delivered(len(MESSAGES))
        print("Postfix delivered %d messages; each was journaled before Postfix said 250." %
              len(MESSAGES))
        show(["list", "--all"], env)
        show(["show", "2"], env)
        show(["policy", "explain", "--from", "alice@retail.bank.example",
              "--rcpt", "bob@securities.bank.example", "--rcpt", "client@example.net"], env)
        show(["export", "2"], env)
        show(["list", "--format", "json", "--limit", "1"], env)
        show(["export", "--format", "mbox", "1-3"], env)
        show(["status"], env)
        print("\nThe daemon's log:")
        print(env.daemon.log_text())


if __name__ == "__main__":
    main()
