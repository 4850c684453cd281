#!/usr/bin/env python3
"""Live demo: Postfix on 127.0.0.1 -> mailjournald -> journal; then the mailjournal tool.

Uses the end-to-end test fixture (tests/e2e/harness.py): a private Postfix instance relaying
to a local sink, with mailjournald as its milter, all in one temporary directory that is
removed at the end.
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "e2e"))
import harness  # noqa: E402

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
POLICY = os.path.join(REPO, "contrib", "policy.yaml")
POLICY_FILES = ["policy/brokerage-staff.txt"]  # include lists, relative to the policy
KEY_HOLDERS = ["retail", "brokerage", "insurance", "escrow"]  # keys/NAME.crt in the policy

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


def make_keys(directory, passphrase_file):
    """The officers' key pairs, as `mailjournal keygen` makes them on their own machines."""
    for name in KEY_HOLDERS:
        cmd = [harness.MAILJOURNAL, "keygen", "--department", name, "-o", directory,
               "--passphrase-file", passphrase_file]
        print("$ " + " ".join(cmd))
        sys.stdout.flush()
        subprocess.run(cmd, check=True)


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
    keys = tempfile.mkdtemp(prefix="mailjournal-demo-keys-")
    try:
        passphrase = os.path.join(keys, "passphrase")
        with open(passphrase, "w") as f:
            f.write("demo passphrase, never use it\n")
        make_keys(keys, passphrase)
        for name in KEY_HOLDERS:
            with open(os.path.join(keys, name + ".crt")) as f:
                files["keys/%s.crt" % name] = f.read()
        run(policy, files, keys, passphrase)
    finally:
        shutil.rmtree(keys, ignore_errors=True)


def run(policy, files, keys, passphrase):
    # The journal starts with the policy entry and one key entry per key it names.
    first = 2 + len(KEY_HOLDERS)
    retail_key = os.path.join(keys, "retail.key")
    with harness.E2E(policy=policy, policy_files=files, e2e_cert=False) as env:
        print("Postfix listens on 127.0.0.1:%d; mailjournald on %s" % (
            env.postfix.smtp_port, env.daemon.milter_spec))
        for sender, rcpts, raw in MESSAGES:
            r = env.send_ok(raw, mail_from=sender, rcpts=rcpts)
            print("sent %-22s -> %-45s %s" % (sender, ",".join(rcpts), r.reply.decode()))
        env.wait_delivered(len(MESSAGES))
        print("Postfix delivered %d messages; each was journaled before Postfix said 250." %
              len(MESSAGES))
        show(["list", "--all"], env)
        show(["show", str(first + 1)], env)
        # Every message is sealed: without a key, only the metadata; the retail officer's key
        # opens the retail message (the tool decrypts; the daemon holds no private key).
        show(["export", str(first)], env, check=False)
        show(["show", "--body", "--key", retail_key, "--passphrase-file", passphrase, str(first)],
             env)
        show(["policy", "explain", "--from", "alice@retail.bank.example",
              "--rcpt", "bob@securities.bank.example", "--rcpt", "client@example.net"], env)
        show(["list", "--format", "json", "--limit", "1"], env)
        # The stored form is standard CMS: openssl and zstd open it without our software.
        cms = os.path.join(keys, "m.cms")
        show(["export", "--sealed", "-o", cms, str(first)], env)
        pipeline = ("openssl cms -decrypt -binary -inform DER -in %s -inkey %s -passin file:%s"
                    " | zstd -dq" % (cms, os.path.join(keys, "escrow.key"), passphrase))
        print("\n$ " + pipeline)
        sys.stdout.flush()
        subprocess.run(pipeline, shell=True, check=True)
        # Search: the daemon narrows by keyed hashes of the words (no word is on its disk);
        # the escrow officer's key opens the candidates, confirms them and shows a snippet.
        escrow_key = ["--key", os.path.join(keys, "escrow.key"), "--passphrase-file", passphrase]
        show(["search", "不保本"] + escrow_key, env)
        show(["search", "subject:allocation", "OR", "subject:理财产品"] + escrow_key, env)
        show(["search", "\"confirm the allocation\"", "--format", "json"], env)
        # Every entry read back, its leaf hash and content checked, the Merkle tree rebuilt.
        show(["verify"], env)
        # Every request above, allowed or refused, is in the audit trail (access entries).
        show(["audit", "--reverse", "--limit", "6"], env)
        show(["status"], env)
        print("\nThe daemon's log:")
        print(env.daemon.log_text())


if __name__ == "__main__":
    main()
