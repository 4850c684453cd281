#!/usr/bin/env python3
"""mailjournald tells systemd how it is doing (sd_notify(3), Type=notify).

The test owns the notify socket: a datagram socket in the abstract namespace, named to the
daemon in NOTIFY_SOCKET as systemd does, with SO_PASSCRED so that each message comes with the
sender's pid (systemd's NotifyAccess=main accepts the main process only). It checks the
messages and their order: READY=1 only once both sockets accept connections, RELOADING=1 with
MONOTONIC_USEC then READY=1 around every policy reload (SIGUSR1, as ExecReload sends, and
`mailjournal policy reload`), a refused reload's STATUS, STOPPING=1 at SIGTERM, and no READY=1
from a start that fails.

Run: python3 tests/e2e/test_service.py   (as root; exit 77 = skipped, prerequisites missing)
"""

import os
import random
import secrets
import select
import signal
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness   # noqa: E402

UCRED = struct.Struct("iII")   # struct ucred: pid, uid, gid


class NotifySocket:
    """The service manager's end of sd_notify: each datagram is one notification, a list of
    KEY=VALUE lines."""

    def __init__(self):
        self.name = "mj-e2e-notify-%d-%s" % (os.getpid(), secrets.token_hex(4))
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("\0" + self.name)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)

    @property
    def address(self):
        """NOTIFY_SOCKET's value: '@' stands for the abstract namespace's leading NUL."""
        return "@" + self.name

    def close(self):
        self.sock.close()

    def receive(self, timeout=30):
        """The next notification as (sender pid, {KEY: VALUE}, [KEY, ...] in order); raises if
        none comes within timeout seconds."""
        ready, _, _ = select.select([self.sock], [], [], timeout)
        if not ready:
            raise harness.HarnessError("no sd_notify message within %ss" % timeout)
        return self._read()

    def pending(self):
        """The notifications already queued (none are waited for)."""
        out = []
        while select.select([self.sock], [], [], 0)[0]:
            out.append(self._read())
        return out

    def _read(self):
        data, ancdata, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(UCRED.size))
        pid = None
        for level, kind, payload in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid = UCRED.unpack(payload[:UCRED.size])[0]
        fields, keys = {}, []
        for line in data.decode().split("\n"):
            if line:
                key, _, value = line.partition("=")
                fields[key] = value
                keys.append(key)
        return pid, fields, keys


class ServiceNotifyTest(harness.E2ETestCase):
    def setUp(self):
        self.notify = NotifySocket()
        self.addCleanup(self.notify.close)
        self.env = harness.E2E(start_daemon=False, daemon_env={"NOTIFY_SOCKET": self.notify.address})
        self.env.__enter__()
        self.addCleanup(self.env.close)

    def expect(self, state, status_prefix):
        """The next notification is STATE=1 with a STATUS starting with status_prefix, from the
        daemon's own process; returns its fields."""
        pid, fields, keys = self.notify.receive()
        self.assertEqual(pid, self.env.daemon.proc.pid, fields)
        self.assertEqual(keys[0], state, fields)
        self.assertEqual(fields[state], "1", fields)
        self.assertTrue(fields.get("STATUS", "").startswith(status_prefix),
                        "STATUS %r does not start with %r" % (fields.get("STATUS"), status_prefix))
        return fields

    def expect_reload(self, trigger, status_prefix):
        """trigger() reloads the policy: RELOADING=1 with a MONOTONIC_USEC taken during it,
        then READY=1; returns the READY's STATUS."""
        before = time.monotonic_ns() // 1000
        trigger()
        after = time.monotonic_ns() // 1000
        reloading = self.expect("RELOADING", "reloading the policy")
        self.assertIn("MONOTONIC_USEC", reloading)
        self.assertTrue(before <= int(reloading["MONOTONIC_USEC"]) <= after,
                        (before, reloading["MONOTONIC_USEC"], after))
        return self.expect("READY", status_prefix)["STATUS"]

    def test_ready_reloading_stopping_in_order(self):
        env, daemon = self.env, self.env.daemon
        daemon.start(wait=False)
        # READY only once everything serves: both sockets accept at the moment it arrives.
        ready = self.expect("READY", "journaling, last_seq ")
        self.assertTrue(harness.unix_accepts(daemon.milter_sock))
        self.assertTrue(harness.unix_accepts(daemon.admin_sock))
        self.assertEqual(ready["STATUS"], "journaling, last_seq %d" % env.tool.last_seq())

        # Mail is journaled without a word to the service manager.
        result = env.send(harness.random_text_message(
            "service-1", 2000, random.Random(9), b"sender@example.org", b"example.org"))
        self.assertTrue(result.accepted, result)
        env.wait_delivered(1)
        self.assertEqual(self.notify.pending(), [])

        # ExecReload's SIGUSR1, then the tool: each reload is RELOADING=1, READY=1.
        seq = []
        status = self.expect_reload(lambda: seq.append(env.reload_policy("signal")[0]),
                                    "journaling, policy loaded at seq ")
        self.assertEqual(status, "journaling, policy loaded at seq %d (reload (SIGUSR1))" % seq[-1])
        status = self.expect_reload(lambda: seq.append(env.reload_policy("tool")[0]),
                                    "journaling, policy loaded at seq ")
        self.assertEqual(status, "journaling, policy loaded at seq %d (reload (admin socket))" % seq[-1])

        # A refused reload: READY again (the running policy journals on), STATUS says why.
        env.write_policy("departments: [unterminated\n")
        status = self.expect_reload(lambda: self.assertEqual(daemon.signal_reload()[0], "refused"),
                                    "journaling; policy reload refused: ")
        self.assertIn("the running policy stays in force", status)

        # SIGTERM: STOPPING=1, then a clean exit with nothing after it.
        daemon.proc.send_signal(signal.SIGTERM)
        self.expect("STOPPING", "stopping")
        self.assertEqual(daemon.stop(), 0)
        self.assertEqual(self.notify.pending(), [])

    def test_failed_start_is_never_ready(self):
        env, daemon = self.env, self.env.daemon
        env.write_policy("departments: [unterminated\n")
        daemon.start(wait=False)
        harness.wait_until(lambda: daemon.proc.poll() is not None, 30, "mailjournald to exit",
                           diag=daemon.log_text)
        self.assertNotEqual(daemon.proc.returncode, 0, daemon.log_text())
        # Every datagram sent before the exit is queued by now.
        self.assertEqual(self.notify.pending(), [])


if __name__ == "__main__":
    harness.main()
