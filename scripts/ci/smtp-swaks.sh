#!/usr/bin/env bash
# Sends one message through Sesame's SMTP interface with swaks, configured
# exactly as a Laravel application's .env configures its mailer for SES's
# SMTP endpoint (docs/smtp.md): STARTTLS on the submission port, AUTH LOGIN
# with the access key id and the derived SMTP password. Then checks that
# what must be refused is: AUTH without STARTTLS and a wrong password.
#
#   SESAME_SMTP_ADDR=127.0.0.1:2587 scripts/ci/smtp-swaks.sh ACCESS_KEY_ID SMTP_PASSWORD [FROM [TO]]
#
# FROM must be an address Sesame can send from (a verified identity;
# default sender@example.com); TO defaults to the mailbox simulator. With
# SESAME_SMTP_CA set to a PEM file (the self-signed certificate in the data
# directory, <data>/tls/cert.pem), the certificate is verified, as Laravel
# does by default. Prints the MessageId; exits non-zero on any surprise.
set -euo pipefail

[ $# -ge 2 ] && [ -n "${SESAME_SMTP_ADDR:-}" ] || {
  sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
}
key_id=$1 password=$2 from=${3:-sender@example.com} to=${4:-success@simulator.amazonses.com}

fail() { echo "smtp-swaks: FAIL: $*" >&2; exit 1; }

if ! command -v swaks >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq swaks >/dev/null 2>&1 ||
      { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq swaks >/dev/null; }
  fi
  command -v swaks >/dev/null || fail "swaks is not installed (apt-get install swaks)"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The application's side: a Laravel .env, as docs/smtp.md gives it.
cat >"$work/.env" <<EOF
MAIL_MAILER=smtp
MAIL_HOST=${SESAME_SMTP_ADDR%:*}
MAIL_PORT=${SESAME_SMTP_ADDR##*:}
MAIL_ENCRYPTION=tls
MAIL_USERNAME=$key_id
MAIL_PASSWORD=$password
MAIL_FROM_ADDRESS=$from
EOF
set -a
# shellcheck disable=SC1091
. "$work/.env"
set +a
[ "$MAIL_ENCRYPTION" = tls ] || fail "MAIL_ENCRYPTION must be tls (STARTTLS)"

# What Symfony Mailer does with that .env: STARTTLS (required, not
# opportunistic), then AUTH LOGIN.
verify=()
if [ -n "${SESAME_SMTP_CA:-}" ]; then
  verify=(--tls-verify --tls-ca-path "$SESAME_SMTP_CA")
fi
mailer=(swaks --server "$MAIL_HOST" --port "$MAIL_PORT" --ehlo app.example.test --timeout 30
  --from "$MAIL_FROM_ADDRESS" --to "$to")

status=0
"${mailer[@]}" --tls "${verify[@]}" --auth LOGIN --auth-user "$MAIL_USERNAME" --auth-password "$MAIL_PASSWORD" \
  --header "Subject: Sesame SMTP check $(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  --body "Sent by scripts/ci/smtp-swaks.sh the way a Laravel application sends." >"$work/send" 2>&1 || status=$?
id=$(sed -n 's/^<~  *250 Ok \([0-9a-f-]*-000000\)\r\{0,1\}$/\1/p' "$work/send")
if [ "$status" -ne 0 ] || [ -z "$id" ]; then
  cat "$work/send" >&2
  fail "send through $SESAME_SMTP_ADDR (swaks exit $status), want 250 Ok <MessageId>"
fi
grep -q '^<~  *235 ' "$work/send" || fail "no 235 to AUTH LOGIN"

# What SES refuses must be refused: credentials before STARTTLS, a wrong
# password.
if "${mailer[@]}" --auth LOGIN --auth-user "$MAIL_USERNAME" --auth-password "$MAIL_PASSWORD" >"$work/plain" 2>&1; then
  fail "AUTH accepted without STARTTLS"
fi
# SES advertises no AUTH before TLS, so swaks does not even try.
grep -q 'Host did not advertise authentication\|Must issue a STARTTLS command first' "$work/plain" ||
  { cat "$work/plain" >&2; fail "AUTH without STARTTLS: unexpected refusal"; }
if "${mailer[@]}" --tls --auth LOGIN --auth-user "$MAIL_USERNAME" --auth-password "B${MAIL_PASSWORD:1}x" >"$work/bad" 2>&1; then
  fail "a wrong password was accepted"
fi
grep -q '535 5.7.8 Authentication Credentials Invalid' "$work/bad" ||
  { cat "$work/bad" >&2; fail "wrong password: not SES's 535"; }

echo "$id"
