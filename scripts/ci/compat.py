"""boto3 against a running Sesame: typed exceptions, pagination, v1 and v2."""
import os
import sys

import boto3
from botocore.exceptions import ClientError

url = os.environ["SESAME_URL"]
v1 = boto3.client("ses", endpoint_url=url)
v2 = boto3.client("sesv2", endpoint_url=url)


def check(cond, what):
    if not cond:
        print("compat.py: FAIL:", what, file=sys.stderr)
        sys.exit(1)


for i in range(5):
    v1.verify_domain_identity(Domain=f"page{i}.example")
pages = list(v1.get_paginator("list_identities").paginate(IdentityType="Domain", PaginationConfig={"PageSize": 2}))
names = [n for p in pages for n in p["Identities"]]
check(len(pages) >= 3 and [n for n in names if n.startswith("page")] == [f"page{i}.example" for i in range(5)], f"pagination: {names}")

token = v1.verify_domain_identity(Domain="page0.example")["VerificationToken"]
attrs = v1.get_identity_verification_attributes(Identities=["page0.example"])["VerificationAttributes"]
check(attrs["page0.example"] == {"VerificationStatus": "Pending", "VerificationToken": token}, f"attributes {attrs}")

try:
    v2.create_email_identity(EmailIdentity="page1.example")
    check(False, "AlreadyExists not raised")
except v2.exceptions.AlreadyExistsException:
    pass
try:
    v2.get_email_identity(EmailIdentity="missing.example")
    check(False, "NotFound not raised")
except v2.exceptions.NotFoundException:
    pass
try:
    v1.send_email(Source="x@nowhere.example", Destination={"ToAddresses": ["a@b.example"]},
                  Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}})
    check(False, "MessageRejected not raised")
except v1.exceptions.MessageRejected as e:
    check("failed the check in region US-EAST-1: x@nowhere.example" in str(e), str(e))

raw = (b"From: sender@example.com\r\nTo: friend@example.net\r\nSubject: raw\r\n"
       b"MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nbody\r\n")
mid = v1.send_raw_email(RawMessage={"Data": raw})["MessageId"]
check(mid.endswith("-000000"), mid)
mid2 = v2.send_email(FromEmailAddress="sender@example.com", Destination={"ToAddresses": ["friend@example.net"]},
                     Content={"Raw": {"Data": raw}})["MessageId"]
check(mid2 != mid, "ids differ")
acct = v2.get_account()
check(acct["ProductionAccessEnabled"] and acct["SendQuota"]["Max24HourSend"] == 50000.0, f"account {acct}")

bad = boto3.client("ses", endpoint_url=url, aws_access_key_id="AKIANOSUCHKEY0000000", aws_secret_access_key="x")
try:
    bad.list_identities()
    check(False, "unknown key accepted")
except ClientError as e:
    check(e.response["Error"]["Code"] == "InvalidClientTokenId", e.response["Error"])
print("compat.py: ok")
