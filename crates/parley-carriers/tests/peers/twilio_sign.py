#!/usr/bin/env python3
"""Signs requests with Twilio's official helper, so our signature code is checked against it.

Reads a JSON array of cases from stdin, each {"token": str, "url": str, "params": [[name, value], ...]},
and prints one line per case: RequestValidator(token).compute_signature(url, params).
Repeated names are passed as a multi-value dict, the way web frameworks hand forms to the helper.
"""

import json
import sys

from twilio.request_validator import RequestValidator


class MultiDict(dict):
    """A name -> [values] dict with the getlist() the helper looks for (like Django's QueryDict)."""

    def getlist(self, name):
        return self[name]


def main():
    for case in json.loads(sys.stdin.buffer.read()):
        params = MultiDict()
        for name, value in case["params"]:
            params.setdefault(name, []).append(value)
        print(RequestValidator(case["token"]).compute_signature(case["url"], params))


if __name__ == "__main__":
    main()
