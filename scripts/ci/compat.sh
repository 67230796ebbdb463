#!/usr/bin/env bash
# Drives a real `sesame serve` with the aws CLI and boto3, the way users do:
# nothing changed but the endpoint. Exits non-zero on the first surprise.
set -euo pipefail
cd "$(dirname "$0")/../.."

work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/sesame" ./cmd/sesame

port=$((20000 + RANDOM % 20000))
export SESAME_HTTP_ADDR=127.0.0.1:$port SESAME_DNS_ADDR=127.0.0.1:$((port + 1))
export SESAME_SMTP_ADDR=127.0.0.1:$((port + 2)) SESAME_SMTPS_ADDR=off SESAME_MX_ADDR=off SESAME_HOSTNAME=sesame.test
"$work/sesame" serve --data "$work/data" --dev >"$work/banner" 2>"$work/log" &
pid=$!
for _ in $(seq 50); do
  curl -fsS "http://$SESAME_HTTP_ADDR/health" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "http://$SESAME_HTTP_ADDR/health" >/dev/null || { cat "$work/log"; exit 1; }

export AWS_ACCESS_KEY_ID=$(sed -n 's/^ *AWS_ACCESS_KEY_ID=//p' "$work/banner")
export AWS_SECRET_ACCESS_KEY=$(sed -n 's/^ *AWS_SECRET_ACCESS_KEY=//p' "$work/banner")
export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
export SESAME_URL="http://$SESAME_HTTP_ADDR"
ep=(--endpoint-url "$SESAME_URL")

fail() { echo "compat: FAIL: $*" >&2; exit 1; }

# follow_link ADDRESS: open the newest verification link captured for ADDRESS.
follow_link() {
  local link
  link=$(curl -fsS "$SESAME_URL/_aws/ses" | python3 -c '
import email, email.policy, json, re, sys
addr = sys.argv[1]
msgs = [m for m in json.load(sys.stdin)["messages"] if addr in m["Destination"]]
msg = email.message_from_string(msgs[-1]["RawData"], policy=email.policy.default)
body = msg.get_body(("plain", "html")).get_content()
print(re.findall(r"https?://[^\s\"<>]+/verify-email\?[^\s\"<>]+", body)[-1])' "$1")
  curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' "$link"
}

echo "== aws CLI"
aws "${ep[@]}" ses verify-email-identity --email-address sender@example.com
[ "$(follow_link sender@example.com)" = "200 " ] || fail "verification link"
status=$(aws "${ep[@]}" ses get-identity-verification-attributes --identities sender@example.com \
  --query 'VerificationAttributes."sender@example.com".VerificationStatus' --output text)
[ "$status" = Success ] || fail "status after link: $status"

# SES's documented flow for custom verification templates.
aws "${ep[@]}" ses create-custom-verification-email-template --cli-input-json file://scripts/ci/testdata/customverificationemailtemplate.json
aws "${ep[@]}" ses list-custom-verification-email-templates --query 'CustomVerificationEmailTemplates[0].TemplateName' --output text | grep -qx SampleTemplate \
  || fail "template not listed"
aws "${ep[@]}" ses send-custom-verification-email --email-address newuser@example.com --template-name SampleTemplate >/dev/null
[ "$(follow_link newuser@example.com)" = "302 https://www.example.com/verifysuccess" ] || fail "custom template redirect"
if aws "${ep[@]}" ses create-custom-verification-email-template --cli-input-json file://scripts/ci/testdata/customverificationemailtemplate.json 2>"$work/err"; then
  fail "duplicate template accepted"
fi
grep -q CustomVerificationEmailTemplateAlreadyExists "$work/err" || fail "duplicate template: $(cat "$work/err")"

tokens=$(aws "${ep[@]}" sesv2 create-email-identity --email-identity example.org --query 'DkimAttributes.Tokens' --output text)
[ "$(wc -w <<<"$tokens")" = 3 ] || fail "want 3 DKIM tokens, got: $tokens"
aws "${ep[@]}" ses send-email --from sender@example.com --to friend@example.net --subject "Hello" --text "Hi there" --query MessageId --output text \
  | grep -Eq '^[0-9a-f]{16}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-000000$' || fail "v1 send-email"
aws "${ep[@]}" sesv2 send-email --from-email-address sender@example.com --destination ToAddresses=friend@example.net \
  --content 'Simple={Subject={Data=Hi},Body={Text={Data=Hello}}}' --query MessageId --output text >/dev/null || fail "v2 send-email"
if aws "${ep[@]}" ses send-email --from nobody@unverified.example --to friend@example.net --subject x --text y 2>"$work/err"; then
  fail "unverified sender accepted"
fi
grep -q 'Email address is not verified. The following identities failed the check in region US-EAST-1: nobody@unverified.example' "$work/err" \
  || fail "unverified sender: $(cat "$work/err")"
aws "${ep[@]}" ses get-send-quota --query Max24HourSend --output text | grep -qx '50000.0' || fail "quota"
if AWS_SECRET_ACCESS_KEY=wrong aws "${ep[@]}" ses list-identities 2>"$work/err"; then fail "wrong secret accepted"; fi
grep -q SignatureDoesNotMatch "$work/err" || fail "wrong secret: $(cat "$work/err")"

echo "== boto3"
python3 scripts/ci/compat.py
python3 scripts/ci/compat_sns.py

echo "== swaks, configured like a Laravel .env"
password=$("$work/sesame" admin smtp-credentials --data "$work/data" --access-key-id "$AWS_ACCESS_KEY_ID" | sed -n 's/^SMTP password: //p')
SESAME_SMTP_CA="$work/data/tls/cert.pem" bash scripts/ci/smtp-swaks.sh "$AWS_ACCESS_KEY_ID" "$password" sender@example.com friend@example.net

echo "compat: aws CLI, boto3 and swaks passed"
