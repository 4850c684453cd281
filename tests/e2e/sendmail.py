"""A private Sendmail on 127.0.0.1 for the end-to-end tests (test_sendmail.py).

Debian's sendmail-bin conflicts with postfix as a package, so the tests never install it:
contrib/install-deps.sh fetches sendmail-bin, sendmail-base and sendmail-cf with
`apt-get download` and unpacks them with `dpkg-deb -x` into SENDMAIL_ROOT
(/var/cache/mailjournal-ci/sendmail/root; MJ_SENDMAIL_ROOT overrides).  Nothing there is
installed system-wide and the system's /etc/mail is never read.

SendmailInstance builds two configurations with m4 and the unpacked cf/m4/cf.m4, in a
directory of the test's temp dir:

* mta.cf, the MTA: listens on 127.0.0.1 on a free port (`-bD`, a daemon in the foreground,
  a child of the test), private queue, no DNS (hosts file only), relays every recipient to
  the harness's sink ([127.0.0.1]:SINK_PORT), and carries contrib/sendmail/mailjournal.mc
  verbatim, its socket path replaced by the test daemon's;
* submit.cf, the MSP (FEATURE(`msp')): what sendmail(1) uses on the command line (`-Am`);
  it hands mail to the MTA over SMTP and keeps it in its own queue (clientmqueue) while the
  MTA answers 4xx; `sendmail -Ac -q` runs that queue.

Every sendmail process runs in its own UTS and mount namespaces (`unshare`), where the host
name is mx.test.invalid and /etc/hosts is a private file naming it: Sendmail insists on a
qualified name for itself and, when the machine's name has no dot and the hosts file no
qualified alias, sleeps 60 s before each start ("My unqualified host name ... unknown; sleeping
for retry").  The machine's own host name and /etc/hosts are left alone.

Sendmail logs only to syslog; `-X FILE` traces its SMTP traffic (both sides) into
sendmail-trace.log instead, for diagnostics.
"""

import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile

import harness

SENDMAIL_ROOT = os.environ.get("MJ_SENDMAIL_ROOT", "/var/cache/mailjournal-ci/sendmail/root")
SENDMAIL_BIN = os.path.join(SENDMAIL_ROOT, "usr", "libexec", "sendmail", "sendmail")
CF_DIR = os.path.join(SENDMAIL_ROOT, "usr", "share", "sendmail", "cf")
CONTRIB_MC = os.path.join(harness.REPO, "contrib", "sendmail", "mailjournal.mc")
CONTRIB_SOCKET = "/run/mailjournal/milter.sock"

# Sendmail's reply to the end of data: "250 2.0.0 QUEUEID Message accepted for delivery".
ACCEPTED_RE = re.compile(rb"^2\.0\.0 ([0-9A-Za-z]+) Message accepted for delivery")
# The Received header Sendmail adds on top of every message: never shown to milters.
RECEIVED_RE = re.compile(rb"\AReceived: from [^\r\n]*\r\n(?:[ \t][^\r\n]*\r\n)*")
RECEIVED_ID_RE = re.compile(rb"\bwith E?SMTP id ([0-9A-Za-z]+)")


def missing_prerequisites():
    """Why the Sendmail tests cannot run here ([] when they can)."""
    problems = []
    if not os.access(SENDMAIL_BIN, os.X_OK):
        problems.append("no unpacked Sendmail at %s (run contrib/install-deps.sh)" % SENDMAIL_ROOT)
    if not os.path.exists(os.path.join(CF_DIR, "m4", "cf.m4")):
        problems.append("no sendmail-cf under %s (run contrib/install-deps.sh)" % CF_DIR)
    if shutil.which("m4") is None:
        problems.append("no m4 (install m4)")
    p = subprocess.run(["unshare", "--uts", "--mount", "true"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if p.returncode != 0:
        problems.append("cannot make UTS and mount namespaces: %s" % p.stdout.decode(errors="replace").strip())
    return problems


def contrib_text():
    """contrib/sendmail/mailjournal.mc as shipped."""
    with open(CONTRIB_MC) as f:
        return f.read()


def contrib_lines(milter_sock, text=None):
    """The .mc lines text (default: contrib/sendmail/mailjournal.mc) with the test daemon's
    socket instead of /run's."""
    if text is None:
        text = contrib_text()
    if CONTRIB_SOCKET not in text:
        raise harness.HarnessError("%s does not name %s" % (CONTRIB_MC, CONTRIB_SOCKET))
    return text.replace(CONTRIB_SOCKET, milter_sock)


def strip_received(raw):
    """(message without Sendmail's leading Received header, the queue id it names)."""
    m = RECEIVED_RE.match(raw)
    if not m:
        raise harness.HarnessError("no leading Received header in %r" % raw[:300])
    qid = RECEIVED_ID_RE.search(m.group(0))
    return raw[m.end():], qid.group(1).decode() if qid else None


# The test's own settings (everything else is Sendmail's default): the host name; no DNS (the
# hosts file only; nocanonify: addresses are not looked up); 8-bit mail passed as is; no ident
# lookups; MaxHeadersLength raised from 32768 to 1 MiB so that the corpus's 60 KB header
# reaches the filter (and the 90 KB one shows libmilter's 64 KiB limit); 64 MiB messages.
COMMON_MC = """\
divert(0)dnl
OSTYPE(`linux')dnl
define(`confDOMAIN_NAME', `{hostname}')dnl
define(`confSERVICE_SWITCH_FILE', `{conf}/service.switch')dnl
define(`confHOSTS_FILE', `/etc/hosts')dnl
define(`confDONT_PROBE_INTERFACES', `True')dnl
define(`confEIGHT_BIT_HANDLING', `pass8')dnl
define(`confTO_IDENT', `0')dnl
define(`confMAX_HEADERS_LENGTH', `1048576')dnl
define(`confMAX_MESSAGE_SIZE', `67108864')dnl
define(`HELP_FILE', `/dev/null')dnl
undefine(`ALIAS_FILE')dnl
FEATURE(`nocanonify')dnl
"""

# The MTA: private queue, background delivery of everything to the sink by the relay mailer
# with no line length limit (L=0: long lines are not split on the way out), no MSA port.
MTA_MC = COMMON_MC + """\
define(`QUEUE_DIR', `{queue}')dnl
define(`STATUS_FILE', `{conf}/mta.st')dnl
define(`confPID_FILE', `{conf}/mta.pid')dnl
define(`confDELIVERY_MODE', `background')dnl
define(`SMART_HOST', `relay:[127.0.0.1]')dnl
define(`RELAY_MAILER_ARGS', `TCP $h {sink_port}')dnl
define(`RELAY_MAILER_LL', `0')dnl
FEATURE(`no_default_msa')dnl
FEATURE(`accept_unresolvable_domains')dnl
DAEMON_OPTIONS(`Port={port}, Addr=127.0.0.1, Name=MTA-e2e')dnl
{milter_lines}\
MAILER(`smtp')dnl
"""

# The MSP: relays to the MTA's port; its queue belongs to RunAsUser (see SendmailInstance).
MSP_MC = COMMON_MC + """\
define(`confRUN_AS_USER', `{msp_user}')dnl
define(`MSP_QUEUE_DIR', `{client_queue}')dnl
define(`STATUS_FILE', `{conf}/msp.st')dnl
define(`confPID_FILE', `{conf}/msp.pid')dnl
define(`RELAY_MAILER_ARGS', `TCP $h {port}')dnl
FEATURE(`msp', `[127.0.0.1]')dnl
"""


class SendmailInstance:
    """A Sendmail MTA (and MSP) in base/sendmail-*, relaying to relay_port, filtering with
    the milter on milter_sock through contrib/sendmail/mailjournal.mc."""

    def __init__(self, base, relay_port, milter_sock, hostname=harness.MYHOSTNAME, milter_lines=None):
        self.base = base
        self.conf_dir = os.path.join(base, "sendmail-conf")
        self.queue_dir = os.path.join(base, "sendmail-mqueue")
        self.client_queue_dir = os.path.join(base, "sendmail-clientmqueue")
        self.trace = os.path.join(base, "sendmail-trace.log")
        self.maillog = self.trace   # what E2E.diagnostics() shows
        self.hosts_file = os.path.join(self.conf_dir, "hosts")
        self.mta_cf = os.path.join(self.conf_dir, "mta.cf")
        self.msp_cf = os.path.join(self.conf_dir, "submit.cf")
        self.relay_port = relay_port
        self.milter_sock = milter_sock
        self.milter_lines = milter_lines   # .mc text naming CONTRIB_SOCKET; None: contrib's
        self.hostname = hostname
        self.smtp_port = harness.free_port()
        # The MSP refuses to run as root ("Mail submission program must have RunAsUser set
        # to non root user"); Debian's user smmsp does not exist here (sendmail-base is not
        # installed), so it runs as nobody, which owns its queue.
        pw = pwd.getpwnam("nobody")
        self.msp_ids = (pw.pw_uid, pw.pw_gid)
        self.proc = None
        self.on_start = None   # called with the daemon's pid (E2E: the reaper)

    def command(self, args):
        """argv running sendmail ARGS in namespaces of its own (see the module's notes)."""
        script = 'mount --bind "$0" /etc/hosts && hostname "$1" && shift && exec "$@"'
        return ["unshare", "--uts", "--mount", "sh", "-c", script, self.hosts_file, self.hostname,
                SENDMAIL_BIN] + list(args)

    # -- configuration
    def _values(self):
        return {"hostname": self.hostname, "conf": self.conf_dir, "queue": self.queue_dir,
                "client_queue": self.client_queue_dir, "sink_port": self.relay_port,
                "port": self.smtp_port, "msp_user": "%d:%d" % self.msp_ids,
                "milter_lines": contrib_lines(self.milter_sock, self.milter_lines)}

    def _m4(self, mc_text, name):
        mc = os.path.join(self.conf_dir, name + ".mc")
        with open(mc, "w") as f:
            f.write(mc_text)
        cf_m4 = os.path.join(CF_DIR, "m4", "cf.m4")
        p = harness.run(["m4", "-D_CF_DIR_=%s/" % CF_DIR, cf_m4, mc])
        if p.stderr.strip():
            raise harness.HarnessError("m4 %s: %s" % (name, p.stderr.decode(errors="replace")))
        cf = os.path.join(self.conf_dir, name + ".cf")
        with open(cf, "wb") as f:
            f.write(p.stdout)
        return cf

    def configure(self):
        for d, mode in ((self.conf_dir, 0o755), (self.queue_dir, 0o700), (self.client_queue_dir, 0o700)):
            os.makedirs(d, exist_ok=True)
            os.chmod(d, mode)
        os.chown(self.client_queue_dir, *self.msp_ids)
        with open(os.path.join(self.conf_dir, "service.switch"), "w") as f:
            f.write("hosts files\naliases files\n")
        with open(self.hosts_file, "w") as f:
            f.write("127.0.0.1\tlocalhost\n127.0.0.1\t%s %s\n" % (self.hostname, self.hostname.split(".")[0]))
        v = self._values()
        self._m4(MTA_MC.format(**v), "mta")
        self._m4(MSP_MC.format(**v), "submit")

    def cf_option(self, cf, name):
        """The value of `O NAME=...` in a generated .cf (None when absent)."""
        with open(cf) as f:
            for line in f:
                if line.startswith("O %s=" % name):
                    return line.rstrip("\n").split("=", 1)[1]
        return None

    # -- the MTA daemon
    def start(self):
        self.configure()
        with open(self.trace, "ab") as log:
            self.proc = subprocess.Popen(
                self.command(["-C", self.mta_cf, "-bD", "-X", self.trace, "-L", "sm-mta-e2e"]),
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        if self.on_start is not None:
            self.on_start(self.proc.pid)
        harness.wait_until(self._listening, 30, "Sendmail on 127.0.0.1:%d" % self.smtp_port,
                           diag=lambda: harness.tail(self.trace))

    def version(self):
        """Sendmail's version (from -d0.1)."""
        p = harness.run(self.command(["-C", self.mta_cf, "-d0.1", "-bt"]), check=False, input=b"")
        m = re.search(rb"Version (\S+)", p.stdout + p.stderr)
        return m.group(1).decode() if m else "unknown"

    def _listening(self):
        if self.proc.poll() is not None:
            raise harness.HarnessError("sendmail exited with %s\n%s" % (self.proc.returncode, harness.tail(self.trace)))
        return harness.tcp_accepts(self.smtp_port)

    def stop(self):
        """Stop the daemon and every process of its session (queue runners, deliveries)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

    # -- queues and submission
    def queue_files(self, client=False):
        """The queue ids of the control files (qf*) in the MTA's or the MSP's queue."""
        d = self.client_queue_dir if client else self.queue_dir
        return sorted(n[2:] for n in os.listdir(d) if n.startswith("qf"))

    def run_queue(self, client=False):
        """One queue run in the foreground (sendmail -q; -Ac -q for the MSP's queue)."""
        cf = self.msp_cf if client else self.mta_cf
        return harness.run(self.command(["-C", cf, "-q", "-v"]), timeout=120, check=False)

    def submit(self, raw, sender, rcpts):
        """sendmail(1) through the MSP: -Am (submission), -i (a lone dot is data)."""
        return harness.run(self.command(["-C", self.msp_cf, "-Am", "-i", "-f", sender, "--"] + list(rcpts)),
                           input=raw, check=False, timeout=120)


class SendmailE2E(harness.E2E):
    """harness.E2E with the private Sendmail as the MTA instead of Postfix (self.sendmail;
    self.postfix stays None).  Sends go to Sendmail's port; the sink receives what it relays.
    milter_lines: the filter's .mc lines, naming CONTRIB_SOCKET (default: contrib's)."""

    def __init__(self, milter_lines=None, **kw):
        super().__init__(**kw)
        self.milter_lines = milter_lines

    def make_mta(self):
        self.postfix = None
        # Sendmail refuses a milter socket below a world-writable directory such as /tmp
        # ("unsafe: World writable directory"), sticky or not: the socket goes into a fresh
        # directory under /run, as in production (/run/mailjournal).
        sock_dir = tempfile.mkdtemp(prefix="mj-e2e-sendmail-", dir="/run")
        self.reaper.note("rmtree", sock_dir)
        self.add_cleanup(shutil.rmtree, sock_dir, True)
        os.chown(sock_dir, self.daemon_uid, self.daemon_gid)
        os.chmod(sock_dir, 0o755)
        self.daemon.milter_sock = os.path.join(sock_dir, "milter.sock")
        self.sendmail = SendmailInstance(self.base, self.sink.port, self.daemon.milter_sock,
                                         milter_lines=self.milter_lines)
        # The reaper checks that the pid still runs what it noted; Sendmail replaces its
        # command line with "sendmail: accepting connections".
        self.sendmail.on_start = lambda pid: self.reaper.note("pid", pid, "sendmail:")
        return self.sendmail
