"""Builds TwiML with Twilio's own Python library (twilio 9.13) from a list of verbs and compares it,
canonicalized (C14N 2.0), with the TwiML Parley answered. Reads {"ours": "...", "verbs": [...]} on
stdin; prints {"same": bool, "library": "...", "ours": "..."}.

Verbs: {"say": text}, {"gather": {"action", "num_digits", "timeout", "prompt"}}, {"dial_number": e164},
{"dial_sip": uri}, {"redirect": url}, {"hangup": true}.
"""
import json
import sys
import xml.etree.ElementTree as ET

from twilio.twiml.voice_response import Dial, Gather, VoiceResponse


def build(verbs):
    response = VoiceResponse()
    for verb in verbs:
        if "say" in verb:
            response.say(verb["say"])
        elif "gather" in verb:
            g = verb["gather"]
            gather = Gather(action=g["action"], method="POST", num_digits=g["num_digits"], timeout=g["timeout"])
            gather.say(g["prompt"])
            response.append(gather)
        elif "dial_number" in verb:
            dial = Dial()
            dial.number(verb["dial_number"])
            response.append(dial)
        elif "dial_sip" in verb:
            dial = Dial()
            dial.sip(verb["dial_sip"])
            response.append(dial)
        elif "redirect" in verb:
            response.redirect(verb["redirect"], method="POST")
        elif "hangup" in verb:
            response.hangup()
        else:
            raise SystemExit(f"unknown verb {verb}")
    return str(response)


def main():
    request = json.load(sys.stdin)
    library = build(request["verbs"])
    same = ET.canonicalize(xml_data=library) == ET.canonicalize(xml_data=request["ours"])
    print(json.dumps({"same": same, "library": library, "ours": request["ours"]}))


main()
