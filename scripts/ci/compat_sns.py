"""boto3's sns client against a running Sesame (SESAME_URL, AWS_* credentials
in the environment): topics, an HTTP subscriber on 127.0.0.1 that confirms
through its SubscribeURL and verifies every signature (SignatureVersion 1
and 2) with the certificate from SigningCertURL, typed exceptions, paging."""
import base64
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import boto3

url = os.environ["SESAME_URL"]
sns = boto3.client("sns", endpoint_url=url)


def check(cond, what):
    if not cond:
        print("compat_sns.py: FAIL:", what, file=sys.stderr)
        sys.exit(1)


def canonical(m):
    if m["Type"] == "Notification":
        names = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:
        names = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    return "".join(f"{n}\n{m[n]}\n" for n in names if n in m).encode()


def verify(m):
    """Verify as consumers do: fetch the certificate, check PKCS#1 v1.5."""
    pem = urllib.request.urlopen(m["SigningCertURL"], timeout=10).read()
    sig = base64.b64decode(m["Signature"])
    digest = {"1": "sha1", "2": "sha256"}[m["SignatureVersion"]]
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding
        algo = hashes.SHA1() if digest == "sha1" else hashes.SHA256()
        x509.load_pem_x509_certificate(pem).public_key().verify(sig, canonical(m), padding.PKCS1v15(), algo)
    except ImportError:  # no cryptography: the openssl command does the same
        with tempfile.TemporaryDirectory() as d:
            paths = {k: os.path.join(d, k) for k in ("cert", "pub", "sig", "data")}
            open(paths["cert"], "wb").write(pem)
            open(paths["sig"], "wb").write(sig)
            open(paths["data"], "wb").write(canonical(m))
            pub = subprocess.run(["openssl", "x509", "-pubkey", "-noout", "-in", paths["cert"]], check=True, capture_output=True).stdout
            open(paths["pub"], "wb").write(pub)
            subprocess.run(["openssl", "dgst", "-" + digest, "-verify", paths["pub"], "-signature", paths["sig"], paths["data"]],
                           check=True, capture_output=True)


received = []
lock = threading.Lock()


class Subscriber(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        m = json.loads(body)
        check(self.headers["x-amz-sns-message-type"] == m["Type"], "message type header")
        verify(m)
        if m["Type"] == "SubscriptionConfirmation":
            urllib.request.urlopen(m["SubscribeURL"], timeout=10).read()
        with lock:
            received.append(m)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Subscriber)
threading.Thread(target=httpd.serve_forever, daemon=True).start()
endpoint = f"http://127.0.0.1:{httpd.server_address[1]}/sns"


def wait(kind, n):
    for _ in range(200):
        with lock:
            got = [m for m in received if m["Type"] == kind]
        if len(got) >= n:
            return got
        time.sleep(0.05)
    check(False, f"{n} {kind} not received")


arn = sns.create_topic(Name="compat-events", Attributes={"DisplayName": "compat"})["TopicArn"]
check(sns.create_topic(Name="compat-events")["TopicArn"] == arn, "create_topic is idempotent")
attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
check(attrs["DisplayName"] == "compat" and attrs["TopicArn"] == arn, f"attributes {attrs}")

sub = sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=endpoint)
check(sub["SubscriptionArn"] == "pending confirmation", f"subscribe {sub}")
wait("SubscriptionConfirmation", 1)
for _ in range(100):
    subs = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    if subs and subs[0]["SubscriptionArn"] != "PendingConfirmation":
        break
    time.sleep(0.05)
sub_arn = subs[0]["SubscriptionArn"]
check(sub_arn.startswith(arn + ":"), f"confirmed subscription {subs}")

event = json.dumps({"eventType": "Bounce", "bounce": {"bounceType": "Permanent"}})
mid = sns.publish(TopicArn=arn, Subject="SES event", Message=event,
                  MessageAttributes={"kind": {"DataType": "String", "StringValue": "bounce"}})["MessageId"]
n = wait("Notification", 1)[0]
check(n["MessageId"] == mid and n["Message"] == event and n["SignatureVersion"] == "1", f"notification {n}")
check(n["MessageAttributes"]["kind"] == {"Type": "String", "Value": "bounce"}, f"attributes {n['MessageAttributes']}")
sns.set_topic_attributes(TopicArn=arn, AttributeName="SignatureVersion", AttributeValue="2")
sns.publish(TopicArn=arn, Message="v2")
check(wait("Notification", 2)[1]["SignatureVersion"] == "2", "SignatureVersion 2")

try:
    sns.get_topic_attributes(TopicArn=arn + "-missing")
    check(False, "NotFound not raised")
except sns.exceptions.NotFoundException as e:
    check(e.response["Error"]["Message"] == "Topic does not exist", str(e))
try:
    sns.subscribe(TopicArn=arn, Protocol="carrier-pigeon", Endpoint="x")
    check(False, "InvalidParameter not raised")
except sns.exceptions.InvalidParameterException:
    pass

for i in range(102):
    sns.create_topic(Name=f"compat-page-{i:03d}")
pages = list(sns.get_paginator("list_topics").paginate())
topics = [t["TopicArn"] for p in pages for t in p["Topics"]]
check(len(pages) >= 2 and len(topics) == len(set(topics)) and arn in topics, f"{len(pages)} pages, {len(topics)} topics")

sns.unsubscribe(SubscriptionArn=sub_arn)
wait("UnsubscribeConfirmation", 1)
check(sns.list_subscriptions()["Subscriptions"] == [], "unsubscribed")
sns.delete_topic(TopicArn=arn)
print("compat_sns.py: boto3 sns passed")
