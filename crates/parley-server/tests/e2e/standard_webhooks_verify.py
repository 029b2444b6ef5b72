"""Verifies Parley's webhook deliveries with the Standard Webhooks reference library (PyPI
`standardwebhooks`), not with code of ours.

Reads JSON on stdin: {"secrets": ["whsec_...", ...], "deliveries": [{"headers": {...}, "body": "..."}]}.
Writes JSON on stdout: for each delivery, the indexes of the secrets whose verification passed.
"""

import json
import sys

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

request = json.load(sys.stdin)
hooks = [Webhook(secret) for secret in request["secrets"]]
out = []
for delivery in request["deliveries"]:
    passed = []
    for i, hook in enumerate(hooks):
        try:
            hook.verify(delivery["body"], delivery["headers"])
            passed.append(i)
        except WebhookVerificationError:
            pass
    out.append(passed)
json.dump(out, sys.stdout)
