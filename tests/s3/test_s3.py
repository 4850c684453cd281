#!/usr/bin/env python3
"""ctest e2e_s3: the S3 client (store/include/mailjournal/s3_client.h) against a real S3
server, a private Ceph radosgw on 127.0.0.1 (radosgw.py), and cross-checked with boto3.

Runs s3_client_tests (MJ_S3_CLIENT_TESTS, default build/tests/s3_client_tests; Boost.Test,
tests/s3/s3_client_test.cc) with the gateway's endpoint and keys in its environment:
* suites object_lock and credentials with the gateway up;
* suite server_down with radosgw stopped (then started again, and the client works again);
* suite cross_check between two boto3 steps (an independent SigV4 implementation): boto3
  uploads an object with COMPLIANCE retention and a legal hold that our client reads back,
  and reads back the object our client uploads, with its lock metadata.
No test is skipped: if radosgw cannot start, the test fails.
"""

import datetime
import json
import os
import re
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import harness  # noqa: E402
import radosgw  # noqa: E402

CLIENT_TESTS = os.environ.get("MJ_S3_CLIENT_TESTS",
                              os.path.join(harness.REPO, "build", "tests", "s3_client_tests"))

# boto3's side of the cross-check, run by a Python that has boto3 (python3-boto3).
# argv: put|check ENDPOINT REGION ACCESS SECRET BUCKET RETAIN_UNTIL_ISO
BOTO3_SCRIPT = r"""
import datetime, json, sys
import boto3, botocore.config
action, endpoint, region, access, secret, bucket, until = sys.argv[1:]
until = datetime.datetime.strptime(until, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
s3 = boto3.client("s3", endpoint_url=endpoint, region_name=region, aws_access_key_id=access,
                  aws_secret_access_key=secret,
                  config=botocore.config.Config(s3={"addressing_style": "path"}))
data = bytes(((i * 7 + i // 256) & 0xff) for i in range(70000))
if action == "put":
    s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    s3.put_object(Bucket=bucket, Key="crosscheck/by-boto3", Body=data, ObjectLockMode="COMPLIANCE",
                  ObjectLockRetainUntilDate=until, ObjectLockLegalHoldStatus="ON")
    print(json.dumps({"ok": True}))
else:
    got = s3.get_object(Bucket=bucket, Key="crosscheck/by-mailjournal")
    body = got["Body"].read()
    print(json.dumps({"same_bytes": body == data, "size": len(body),
                      "mode": got.get("ObjectLockMode"),
                      "until": got["ObjectLockRetainUntilDate"].astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                      "legal_hold": got.get("ObjectLockLegalHoldStatus")}))
"""


class S3ClientAgainstRadosgw(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.access(CLIENT_TESTS, os.X_OK):
            raise AssertionError("%s is not built (make s3_client_tests)" % CLIENT_TESTS)
        cls.rgw = radosgw.RadosGateway()
        cls.rgw.__enter__()
        sys.stderr.write("radosgw started in %.1f s at %s\n" % (cls.rgw.start_seconds, cls.rgw.endpoint))

    @classmethod
    def tearDownClass(cls):
        cls.rgw.__exit__(None, None, None)

    def env(self, **extra):
        env = dict(os.environ, MJ_S3_ENDPOINT=self.rgw.endpoint, MJ_S3_REGION=self.rgw.region,
                   MJ_S3_ACCESS_KEY=self.rgw.access_key, MJ_S3_SECRET_KEY=self.rgw.secret_key)
        env.update(extra)
        return env

    def run_suites(self, suites, cases, **extra):
        """Runs the test cases `suites` names (--run_test), `cases` of them, and checks that all
        of them ran and passed."""
        p = subprocess.run([CLIENT_TESTS, "--run_test=" + suites, "--log_level=test_suite",
                            "--color_output=no"], env=self.env(**extra), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=300)
        out = p.stdout.decode(errors="replace")
        self.assertEqual(p.returncode, 0, "s3_client_tests %s failed:\n%s\n%s" % (
            suites, out[-6000:], self.rgw.log_tail("client.rgw.a")))
        self.assertEqual(len(re.findall(r'Leaving test case "', out)), cases, out)
        return out

    def boto3(self, action, bucket, until):
        python = harness.python_with("boto3", "python3-boto3")
        p = harness.run([python, "-c", BOTO3_SCRIPT, action, self.rgw.endpoint, self.rgw.region,
                         self.rgw.access_key, self.rgw.secret_key, bucket, until], timeout=120)
        return json.loads(p.stdout.decode().strip().splitlines()[-1])

    def test_object_lock_listing_and_credentials(self):
        out = self.run_suites("object_lock,credentials", 10)
        self.assertIn("Leaving test case \"ListingFollowsPrefixAndContinuationTokens\"", out)
        self.assertIn("Leaving test case \"WrongSecretKeyIsAClearAuthenticationError\"", out)

    def test_server_down_is_transient_and_client_recovers(self):
        self.rgw.stop_gateway()
        try:
            harness.wait_until(lambda: not harness.tcp_accepts(self.rgw.rgw_port), 10, "radosgw's port closed")
            self.run_suites("server_down", 1)
        finally:
            self.rgw.start_gateway()
        # Back up: the same requests succeed again.
        self.run_suites("object_lock/LockedUploadReadsBackBytesAndMetadataExactly", 1)

    def test_cross_check_with_boto3(self):
        until = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=2)).replace(microsecond=0)
        until_text = until.strftime("%Y-%m-%dT%H:%M:%SZ")
        bucket = "mj-crosscheck-%d" % int(time.time() * 1000 % 1e9)
        self.assertEqual(self.boto3("put", bucket, until_text), {"ok": True})
        self.run_suites("cross_check", 1, MJ_S3_BUCKET=bucket, MJ_S3_CROSS_RETAIN_UNTIL=until_text)
        self.assertEqual(self.boto3("check", bucket, until_text), {
            "same_bytes": True, "size": 70000, "mode": "COMPLIANCE", "until": until_text,
            # radosgw sends no legal-hold header for a version that never had one.
            "legal_hold": None})


if __name__ == "__main__":
    unittest.main(verbosity=2)
