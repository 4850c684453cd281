#!/usr/bin/env python3
"""A real S3 server for tests: a single-node Ceph cluster with the RADOS Gateway (radosgw).

Everything lives in one directory (a fresh temporary one unless given): ceph.conf, the
monitor's and the OSD's data, run dir (pid files, admin sockets) and logs.  One monitor
(ceph-mon) and one OSD (ceph-osd with the in-memory ``memstore`` object store, so no disk
is needed) form the cluster, without cephx (``auth_*_required = none``); radosgw serves S3
on 127.0.0.1 only, on a free port, and an S3 user with known keys (ACCESS_KEY, SECRET_KEY;
region REGION) is created.  Object Lock behaves as on AWS:
a COMPLIANCE-locked version cannot be deleted and its retention cannot be shortened.

As a context manager (the e2e tests)::

    with RadosGateway() as rgw:
        rgw.endpoint, rgw.access_key, rgw.secret_key, rgw.region
        rgw.stop_gateway(); rgw.start_gateway()   # the S3 server down, and back

Every daemon runs in the foreground as a child of this process and is noted to the e2e
harness's reaper (tests/e2e/harness.py), so that the daemons are stopped and the directory
removed even when the test process is killed (ctest timeout); stop() (or leaving the
``with``) stops them in reverse order.

From a shell (as root), for humans::

    python3 tests/s3/radosgw.py start DIR   # prints endpoint and keys, leaves the cluster running
    python3 tests/s3/radosgw.py stop DIR    # stops the daemons by their pid files, DIR/run/*.started.pid

Requirements: root is not needed by Ceph itself here, but the e2e tests run as root;
Debian 12's radosgw, ceph-mon and ceph-osd packages (contrib/install-deps.sh).
Environment: MJ_E2E_KEEP=1 keeps the directory (as the e2e harness does), MJ_E2E_TMP is
the parent of the temporary directory.
"""

import argparse
import http.client
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import harness  # noqa: E402  (wait_until, free_port, run, tail, Reaper, pid_alive)

ACCESS_KEY = "MJTESTACCESSKEY00001"
SECRET_KEY = "mjtest/secret/key/0000000000000000000001"
REGION = "default"   # radosgw's zonegroup name; SigV4 signs with it
USER_ID = "mailjournal-test"

# Seconds: each step has its own deadline; the whole start takes about 10 s on 2 cores.
STEP_TIMEOUT = 60

DAEMONS = ("mon.a", "osd.0", "client.rgw.a")   # start order; stopped in reverse


class RadosGatewayError(AssertionError):
    """The cluster or the gateway did not come up (an AssertionError: tests fail, not error)."""


CEPH_CONF = """\
[global]
fsid = {fsid}
mon host = v1:127.0.0.1:{mon_port}
mon initial members = a
public addr = 127.0.0.1
ms bind msgr2 = false
ms bind ipv6 = false
auth cluster required = none
auth service required = none
auth client required = none
run dir = {base}/run
pid file = {base}/run/$name.pid
admin socket = {base}/run/$name.asok
log file = {base}/log/$name.log
log to stderr = false
err to stderr = true
crash dir = {base}/crash
keyring = {base}/keyring
mon data = {base}/mon/$name
osd data = {base}/osd/$name
osd objectstore = memstore
memstore device bytes = 1073741824
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon max pg per osd = 1000
osd crush chooseleaf type = 0
mon allow pool delete = true
mon warn on pool no redundancy = false
osd crush update on start = false
osd class update on start = false

[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:{rgw_port}
rgw data = {base}/rgw
rgw enable usage log = false
"""


class RadosGateway:
    """A private single-node Ceph with radosgw in `base` (default: a new temp dir, removed at
    stop() unless MJ_E2E_KEEP is set).  reap=False leaves no reaper (the CLI's `start`, whose
    daemons must outlive it)."""

    def __init__(self, base=None, reap=True, access_key=ACCESS_KEY, secret_key=SECRET_KEY):
        self.owns_base = base is None
        self.base = base or tempfile.mkdtemp(prefix="mj-s3-", dir=os.environ.get("MJ_E2E_TMP") or None)
        self.base = os.path.abspath(self.base)
        self.conf = os.path.join(self.base, "ceph.conf")
        self.access_key = access_key
        self.secret_key = secret_key
        self.region = REGION
        self.reaper = harness.Reaper() if reap else None
        self.procs = {}            # daemon name -> subprocess.Popen (foreground daemons)
        self.rgw_port = None
        self.start_seconds = None  # how long start() took
        self._last_ceph_error = ""

    # -- lifecycle
    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    @property
    def endpoint(self):
        return "http://127.0.0.1:%d" % self.rgw_port

    def start(self):
        """Create the cluster and start mon, OSD and gateway; create the S3 user."""
        began = time.monotonic()
        if self.reaper and self.owns_base:
            self.reaper.note("rmtree", self.base)
        for sub in ("run", "log", "crash", "rgw", "mon/mon.a", "osd/osd.0"):
            os.makedirs(os.path.join(self.base, sub), exist_ok=True)
        self.rgw_port = harness.free_port()
        mon_port = harness.free_port()
        fsid = str(uuid.uuid4())
        with open(self.conf, "w") as f:
            f.write(CEPH_CONF.format(fsid=fsid, mon_port=mon_port, rgw_port=self.rgw_port,
                                     base=self.base))
        # The monitor: a monmap with this one monitor, its store, then the daemon.
        monmap = os.path.join(self.base, "monmap")
        self._run(["monmaptool", "--create", "--clobber", "--fsid", fsid, "--addv", "a",
                   "[v1:127.0.0.1:%d]" % mon_port, monmap])
        self._run(["ceph-mon", "-c", self.conf, "-i", "a", "--mkfs", "--monmap", monmap])
        self._start_daemon("mon.a", ["ceph-mon", "-f", "-c", self.conf, "-i", "a"])
        # The OSD: registered with the monitor, its memstore, the daemon. It does not put
        # itself into the CRUSH map (osd_crush_update_on_start = false): its own start-up
        # commands to the monitor race with the monitor's first map ("wrong fsid", and the
        # OSD then never comes up); we add it ourselves, with the retrying _ceph, under
        # root=default where the pools find it (osd crush chooseleaf type = 0: one OSD).
        osd_uuid = str(uuid.uuid4())
        osd_id = self._ceph(["osd", "new", osd_uuid]).strip()
        if osd_id != "0":
            raise RadosGatewayError("ceph osd new gave id %r, expected 0" % osd_id)
        self._ceph(["osd", "crush", "add", "osd.0", "1.0", "root=default"])
        self._run(["ceph-osd", "-c", self.conf, "-i", "0", "--mkfs", "--osd-uuid", osd_uuid])
        self._start_daemon("osd.0", ["ceph-osd", "-f", "-c", self.conf, "-i", "0"])
        harness.wait_until(self._osd_up, STEP_TIMEOUT, "osd.0 up", interval=0.2,
                           diag=lambda: self.log_tail("osd.0"))
        self.start_gateway()
        self._run(["radosgw-admin", "-c", self.conf, "user", "create", "--uid", USER_ID,
                   "--display-name", "mailjournal tests", "--access-key", self.access_key,
                   "--secret-key", self.secret_key])
        self.start_seconds = time.monotonic() - began

    def start_gateway(self):
        """Start radosgw (again) on its port and wait until it answers HTTP 200."""
        self._start_daemon("client.rgw.a", ["radosgw", "-f", "-c", self.conf, "-n", "client.rgw.a"])
        harness.wait_until(self._gateway_answers, STEP_TIMEOUT, "radosgw on port %d" % self.rgw_port,
                           interval=0.2, diag=lambda: self.log_tail("client.rgw.a"))

    def stop_gateway(self):
        """Stop radosgw only (the S3 server down); start_gateway() brings it back."""
        self._stop_daemon("client.rgw.a")

    def stop(self):
        """Stop every daemon (reverse order) and remove the directory if it was ours."""
        for name in reversed(DAEMONS):
            self._stop_daemon(name)
        if self.reaper:
            self.reaper.done()
            self.reaper = None
        if self.owns_base:
            if os.environ.get("MJ_E2E_KEEP"):
                sys.stderr.write("keeping %s\n" % self.base)
            else:
                shutil.rmtree(self.base, ignore_errors=True)

    # -- helpers
    def log_tail(self, name):
        return "---- %s log (tail) ----\n%s" % (name, harness.tail(os.path.join(self.base, "log", name + ".log")))

    def _run(self, cmd):
        return harness.run(cmd, timeout=STEP_TIMEOUT, cwd=self.base).stdout.decode()

    def _ceph(self, args):
        """The output of a `ceph` command, retried until it succeeds or STEP_TIMEOUT passes: the
        ceph CLI now and then sends its command before it has the monitor's map, with a null
        fsid, and the monitor refuses it ("EPERM: problem getting command descriptions";
        mon log: "handle_command on fsid 00000000-..."). Every command used here is
        idempotent (`osd new` with the same uuid gives the same id)."""
        output = []   # wait_until needs a true value; a command may print nothing
        harness.wait_until(lambda: output.append(self._ceph_or_none(args)) or output[-1] is not None,
                           STEP_TIMEOUT, "ceph %s" % " ".join(args), interval=0.2,
                           diag=lambda: self._last_ceph_error + "\n" + self.log_tail("mon.a"))
        return output[-1]

    def _ceph_or_none(self, args):
        p = subprocess.run(["ceph", "-c", self.conf, "--connect-timeout", "10"] + args, cwd=self.base,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=STEP_TIMEOUT)
        if p.returncode != 0:
            self._last_ceph_error = "ceph %s: exit %d: %s" % (" ".join(args), p.returncode, p.stderr.decode(errors="replace"))
            return None
        return p.stdout.decode()

    def _start_daemon(self, name, cmd):
        # Own session: a Ctrl-C meant for the test does not reach the daemons before stop().
        errlog = open(os.path.join(self.base, "log", name + ".stderr"), "ab")
        with errlog:
            proc = subprocess.Popen(cmd, cwd=self.base, stdin=subprocess.DEVNULL, stdout=errlog,
                                    stderr=errlog, start_new_session=True)
        self.procs[name] = proc
        # Our own pid file: radosgw in the foreground writes none (ceph-mon and ceph-osd do).
        with open(os.path.join(self.base, "run", name + ".started.pid"), "w") as f:
            f.write("%d\n" % proc.pid)
        if self.reaper:
            self.reaper.note("pid", proc.pid, cmd[0])
        # Fail fast when the daemon exits at once (bad configuration, port taken).
        if proc.poll() is not None:
            raise RadosGatewayError("%s exited with %d\n%s" % (name, proc.returncode, self.log_tail(name)))

    def _stop_daemon(self, name):
        proc = self.procs.pop(name, None)
        if proc is not None:
            harness.stop_process(proc, timeout=20)

    def _osd_up(self):
        """Whether the monitor reports osd.0 up; raises when the OSD process has exited."""
        proc = self.procs.get("osd.0")
        if proc is not None and proc.poll() is not None:
            raise RadosGatewayError("osd.0 exited with %d\n%s" % (proc.returncode, self.log_tail("osd.0")))
        stat = self._ceph_or_none(["osd", "stat", "-f", "json"]) or ""
        return '"num_up_osds":1' in stat.replace(" ", "")

    def _gateway_answers(self):
        proc = self.procs.get("client.rgw.a")
        if proc is not None and proc.poll() is not None:
            raise RadosGatewayError("radosgw exited with %d\n%s" % (proc.returncode, self.log_tail("client.rgw.a")))
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.rgw_port, timeout=2)
            conn.request("GET", "/")
            status = conn.getresponse().status
            conn.close()
            return status == 200
        except OSError:
            return False


def stop_by_pid_files(base):
    """Stop the daemons a `start DIR` left running: SIGTERM to each pid in DIR/run/NAME.started.pid
    (written when it was started) that still runs a Ceph program, then wait (SIGKILL after 20 s)."""
    stopped = []
    for name in reversed(DAEMONS):
        path = os.path.join(base, "run", name + ".started.pid")
        try:
            with open(path) as f:
                pid = int(f.read().strip())
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                cmdline = f.read()
        except (OSError, ValueError):
            continue
        if b"ceph" not in cmdline and b"radosgw" not in cmdline:
            continue
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        while harness.pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if harness.pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
        stopped.append(name)
    return stopped


def main(argv):
    parser = argparse.ArgumentParser(description="A private single-node Ceph with radosgw on 127.0.0.1.")
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("dir", help="the cluster's directory (created by start)")
    args = parser.parse_args(argv)
    if args.action == "stop":
        stopped = stop_by_pid_files(args.dir)
        print("stopped: %s" % (", ".join(stopped) or "nothing running"))
        return 0
    os.makedirs(args.dir, exist_ok=True)
    rgw = RadosGateway(args.dir, reap=False)
    try:
        rgw.start()
    except BaseException:
        stop_by_pid_files(rgw.base)
        raise
    env = ("MJ_S3_ENDPOINT=%s\nMJ_S3_REGION=%s\nMJ_S3_ACCESS_KEY=%s\nMJ_S3_SECRET_KEY=%s\n" %
           (rgw.endpoint, rgw.region, rgw.access_key, rgw.secret_key))
    with open(os.path.join(rgw.base, "s3.env"), "w") as f:
        f.write(env)
    sys.stdout.write(env)
    print("# started in %.1f s; stop with: %s stop %s" % (rgw.start_seconds, sys.argv[0], rgw.base))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
