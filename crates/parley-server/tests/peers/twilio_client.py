#!/usr/bin/env python3
"""Drives Parley's Twilio-compatible Messages API with Twilio's official helper library (twilio 9.13).

Reads one JSON object from stdin, {"command": ..., ...}, and prints one JSON object:

- "client": with a client pointed at Parley, sends (with a StatusCallback), fetches and lists
  messages, and records the TwilioRestException of an opted-out recipient, of another AccountSid and
  of a key without sms:send.
- "validate": checks each captured callback with the library's RequestValidator.

The client reaches Parley by the library's supported extension point, a custom HttpClient: it sends
every request the library makes for https://api.twilio.com to Parley's base URL instead, the only
change an application makes.
"""

import json
import sys

from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

TWILIO = "https://api.twilio.com"


class ParleyHttpClient(TwilioHttpClient):
    """Twilio's own HTTP client, pointed at Parley."""

    def __init__(self, base):
        super().__init__()
        self.base = base.rstrip("/")
        if self.session is not None:
            # Straight to the test server, whatever proxy the environment names.
            self.session.trust_env = False

    def request(self, method, url, *args, **kwargs):
        if url.startswith(TWILIO):
            url = self.base + url[len(TWILIO):]
        return super().request(method, url, *args, **kwargs)


def client(args, key, token, account_sid=None):
    return Client(key, token, account_sid or args["account_sid"], http_client=ParleyHttpClient(args["base"]))


def refusal(call):
    try:
        call()
    except TwilioRestException as e:
        return {"code": e.code, "status": e.status, "message": e.msg}
    return None


def shown(m):
    return {
        "sid": m.sid,
        "account_sid": m.account_sid,
        "to": m.to,
        "from": m.from_,
        "body": m.body,
        "status": m.status,
        "direction": m.direction,
        "num_segments": m.num_segments,
        "api_version": m.api_version,
        "uri": m.uri,
        "date_created": m.date_created.isoformat() if m.date_created else None,
    }


def run_client(args):
    api = client(args, args["key"], args["token"])
    first = api.messages.create(
        to=args["to"], from_=args["from"], body="Your order 1234 shipped", status_callback=args["callback"]
    )
    fetched = api.messages(first.sid).fetch()
    second = api.messages.create(to=args["to"], from_=args["from"], body="It arrives tomorrow")
    # One message per page: list() follows next_page_uri through both.
    listed = api.messages.list(to=args["to"], page_size=1)
    page = api.messages.page(to=args["to"], page_size=1)
    return {
        "created": shown(first),
        "fetched": shown(fetched),
        "second": shown(second),
        "listed": [m.sid for m in listed],
        "first_page": [m.sid for m in page],
        "opted_out": refusal(lambda: api.messages.create(to=args["opted_out"], from_=args["from"], body="Sale!")),
        "wrong_account": refusal(
            lambda: client(args, args["key"], args["token"], "AC" + "0" * 32).messages(first.sid).fetch()
        ),
        "no_scope": refusal(
            lambda: client(args, args["reader_key"], args["reader_token"]).messages.create(
                to=args["to"], from_=args["from"], body="Hello"
            )
        ),
    }


def run_validate(args):
    results = []
    for c in args["callbacks"]:
        validator = RequestValidator(c["token"])
        results.append(validator.validate(c["url"], dict(c["params"]), c["signature"]))
    return {"valid": results}


def main():
    args = json.loads(sys.stdin.buffer.read())
    commands = {"client": run_client, "validate": run_validate}
    print(json.dumps(commands[args["command"]](args)))


if __name__ == "__main__":
    main()
