#!/usr/bin/env python3
"""What a bucket holds, seen with boto3 (an S3 client independent of ours), for the e2e tests.

Run by a Python that has boto3 (harness.python_with("boto3", "python3-boto3")):

    s3_inspect.py ENDPOINT REGION ACCESS_KEY SECRET_KEY BUCKET COMMAND [ARGS...]

prints one JSON value on standard output:
    list PREFIX                 [{"key", "version_id", "size", "latest"}] of every version
    head KEY VERSION            {"size", "mode", "retain_until" (ISO, Z), "legal_hold" (ON/OFF/None)}
    get KEY VERSION FILE        {"size"}; the version's bytes written to FILE
    delete KEY VERSION          {"error": S3 error code or None}: delete that version
    retain KEY VERSION ISO      {"error": ...}: set its COMPLIANCE retain-until date to ISO
"""

import datetime
import json
import sys

import boto3
import botocore.config
import botocore.exceptions


def iso(t):
    return t.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if t else None


def error_code(call):
    try:
        call()
        return {"error": None}
    except botocore.exceptions.ClientError as e:
        return {"error": e.response.get("Error", {}).get("Code")}


def main(argv):
    endpoint, region, access, secret, bucket, command = argv[:6]
    args = argv[6:]
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name=region, aws_access_key_id=access,
                      aws_secret_access_key=secret,
                      config=botocore.config.Config(s3={"addressing_style": "path"},
                                                    retries={"max_attempts": 1}))
    if command == "list":
        out = []
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=args[0]):
            for v in page.get("Versions", []):
                out.append({"key": v["Key"], "version_id": v["VersionId"], "size": v["Size"],
                            "latest": v["IsLatest"]})
        return out
    if command == "head":
        h = s3.head_object(Bucket=bucket, Key=args[0], VersionId=args[1])
        return {"size": h["ContentLength"], "mode": h.get("ObjectLockMode"),
                "retain_until": iso(h.get("ObjectLockRetainUntilDate")),
                "legal_hold": h.get("ObjectLockLegalHoldStatus")}
    if command == "get":
        body = s3.get_object(Bucket=bucket, Key=args[0], VersionId=args[1])["Body"].read()
        with open(args[2], "wb") as f:
            f.write(body)
        return {"size": len(body)}
    if command == "delete":
        return error_code(lambda: s3.delete_object(Bucket=bucket, Key=args[0], VersionId=args[1]))
    if command == "retain":
        until = datetime.datetime.strptime(args[2], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=datetime.timezone.utc)
        return error_code(lambda: s3.put_object_retention(
            Bucket=bucket, Key=args[0], VersionId=args[1],
            Retention={"Mode": "COMPLIANCE", "RetainUntilDate": until}))
    raise SystemExit("unknown command " + command)


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
