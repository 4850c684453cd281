#!/usr/bin/env python3
"""The long form of tests/e2e/test_crash.py: kill -9 mailjournald at random moments under
continuous load, --kills times (default 20), with the same checks after every kill and restart
and at the end (see tests/crash/README.md and the docstring of tests/e2e/test_crash.py).

Usage (as root, from anywhere):
    MAILJOURNALD=build/milter/mailjournald MAILJOURNAL=build/store/mailjournal \
        python3 tests/crash/kill_loop.py [--kills N] [--seed S] [--duration SECONDS]
                                         [--clients N] [--triggers acks,staging,checkpoint,delay]

Exit status: 0 when every check passed, 1 when one failed (the problems, the seed and the
command to replay it are printed), 77 when the prerequisites are missing (not root, no
Postfix, binaries not built).
"""

import argparse
import os
import signal
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import harness      # noqa: E402
import test_crash   # noqa: E402


def main():
    ap = argparse.ArgumentParser(description="kill -9 mailjournald under load, N times, and check the journal")
    ap.add_argument("--kills", type=int, default=20, help="number of SIGKILLs (default 20)")
    ap.add_argument("--seed", type=int, default=None, help="seed of the plan (default: random, printed)")
    ap.add_argument("--duration", type=float, default=0.0,
                    help="spread the kills over at least this many seconds of load (default 0: kill as soon "
                         "as each random trigger fires)")
    ap.add_argument("--clients", type=int, default=4, help="concurrent SMTP client threads (default 4)")
    ap.add_argument("--triggers", default=",".join(test_crash.CrashRun.TRIGGERS),
                    help="kinds of kill moments to draw from (default: all of %s)" %
                         ",".join(test_crash.CrashRun.TRIGGERS))
    args = ap.parse_args()

    problems = harness.require_environment() + harness.require_binaries(harness.MAILJOURNALD, harness.MAILJOURNAL)
    if problems:
        sys.stderr.write("SKIP: " + "; ".join(problems) + "\n")
        return harness.SKIP_EXIT

    def interrupted(signum, frame):
        raise KeyboardInterrupt("signal %d" % signum)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, interrupted)

    seed = args.seed if args.seed is not None else test_crash.seed_from_env()
    triggers = [t for t in args.triggers.split(",") if t]
    replay = "python3 tests/crash/kill_loop.py --seed %d --kills %d --clients %d%s%s" % (
        seed, args.kills, args.clients, " --duration %g" % args.duration if args.duration else "",
        " --triggers %s" % ",".join(triggers) if triggers != list(test_crash.CrashRun.TRIGGERS) else "")
    print("replay: %s" % replay, flush=True)
    run = test_crash.CrashRun(seed, args.kills, clients=args.clients, duration=args.duration,
                              out=sys.stdout, triggers=triggers)
    try:
        lines = run.run()
    finally:
        harness.close_all_envs()
    print("\n".join(lines))
    if run.problems:
        print("\nFAILED: %d problem(s); replay: %s" % (len(run.problems), replay))
        for p in run.problems:
            print("  - " + p)
        return 1
    print("\nOK: %d kills, every 250 journaled, exported byte for byte and verified (seed %d)" % (
        len(run.kill_log), seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
