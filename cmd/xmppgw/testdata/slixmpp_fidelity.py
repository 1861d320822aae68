#!/usr/bin/python3
"""slixmpp (Debian python3-slixmpp 1.8.x) against the gateway, through Prosody.

Usage: slixmpp_fidelity.py HOST:PORT JID PASSWORD OUT.json

Driven by TestSlixmppClient (slixmpp_e2e_test.go). Protocol with the test:
prints "READY" on stdout once online; the test then has the Telegram user
send "ping?". The script then, against 111@telegram.example.test:

  1. sends a message asking for an XEP-0184 receipt, XEP-0333 markable, and
     waits for the receipt and the "received" marker;
  2. corrects it (XEP-0308);
  3. reacts 👍 to "ping?" (XEP-0444);
  4. replies to "ping?" (XEP-0461, with an XEP-0428 fallback quote);
  5. retracts message 1 (XEP-0424), see retract() for the two versions sent;
  6. fetches the contact's vCard (XEP-0054);
and writes what it saw as JSON to OUT.json. Every wait is bounded; any
timeout exits 1 with a message on stderr.
"""

import asyncio
import json
import logging
import sys
import xml.etree.ElementTree as ET

import slixmpp
from slixmpp.plugins.xep_0461.stanza import Reply

CONTACT = "111@telegram.example.test"
WAIT = 15  # seconds, for each wait


class Fail(Exception):
    pass


class Client(slixmpp.ClientXMPP):
    def __init__(self, jid, password):
        super().__init__(jid, password)
        for p in ("xep_0030", "xep_0184", "xep_0333", "xep_0308", "xep_0424",
                  "xep_0428", "xep_0444", "xep_0461", "xep_0054"):
            self.register_plugin(p)
        # Send our own requests: no automatic ones on every message.
        self["xep_0184"].auto_request = False
        # Prosody in the test has no TLS.
        self["feature_mechanisms"].unencrypted_plain = True
        self.loop_ = asyncio.get_event_loop()
        self.online = self.loop_.create_future()
        self.receipts = {}  # id -> future
        self.markers = {}
        self.incoming = {}  # body -> future of the message
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("failed_auth", self.on_failed_auth)
        self.add_event_handler("receipt_received", self.on_receipt)
        self.add_event_handler("marker_received", self.on_marker)
        self.add_event_handler("message", self.on_message)

    def _fut(self, table, key):
        if key not in table:
            table[key] = self.loop_.create_future()
        return table[key]

    async def on_start(self, _):
        self.send_presence()
        await self.get_roster()
        if not self.online.done():
            self.online.set_result(True)

    def on_failed_auth(self, _):
        if not self.online.done():
            self.online.set_exception(Fail("authentication failed"))

    def on_receipt(self, msg):
        if msg["from"].bare == CONTACT:
            f = self._fut(self.receipts, msg["receipt"])
            if not f.done():
                f.set_result(msg["receipt"])

    def on_marker(self, msg):
        if msg["from"].bare == CONTACT:
            f = self._fut(self.markers, msg["received"]["id"])
            if not f.done():
                f.set_result(msg["received"]["id"])

    def on_message(self, msg):
        if msg["from"].bare == CONTACT and msg["body"]:
            f = self._fut(self.incoming, msg["body"])
            if not f.done():
                f.set_result(msg)


async def wait(what, fut):
    try:
        return await asyncio.wait_for(asyncio.shield(fut), WAIT)
    except asyncio.TimeoutError:
        raise Fail("timed out after %ds waiting for %s" % (WAIT, what))


async def run(xmpp, out):
    await wait("the session to start", xmpp.online)
    print("READY", flush=True)
    ping = await wait('"ping?" from the contact', xmpp._fut(xmpp.incoming, "ping?"))
    ping_id = ping["id"]
    seen = {"ping_id": ping_id}

    # 1. XEP-0184 request + XEP-0333 markable, through the stanza plugins
    #    (neither plugin has a sender helper for this).
    m1 = xmpp.make_message(mto=CONTACT, mbody="slixmpp says hi", mtype="chat")
    m1["id"] = "sx-" + xmpp.new_id()
    m1["request_receipt"] = True
    m1.enable("markable")
    receipt = xmpp._fut(xmpp.receipts, m1["id"])
    marker = xmpp._fut(xmpp.markers, m1["id"])
    m1.send()
    seen["first_id"] = m1["id"]
    # The ids the receipt and the marker name (the futures are keyed by them).
    seen["receipt_for"] = await wait("the XEP-0184 receipt", receipt)
    seen["marker_for"] = await wait("the XEP-0333 received marker", marker)

    # 2. XEP-0308: the plugin registers <replace/> but has no sender helper.
    fix = xmpp.make_message(mto=CONTACT, mbody="slixmpp says hello", mtype="chat")
    fix["replace"]["id"] = m1["id"]
    fix.send()

    # 3. XEP-0444, with the plugin's helper.
    xmpp["xep_0444"].send_reactions(CONTACT, ping_id, ["👍"])

    # 4. XEP-0461 through the plugin's <reply/> stanza. Its helper
    #    send_reply() sends at once and, in slixmpp 1.8, adds no fallback
    #    quote; the plugin's own fallback stanza is the old
    #    urn:xmpp:feature-fallback:0. So we write the quote ourselves and
    #    mark it with the XEP-0428 plugin's <fallback xmlns="urn:xmpp:fallback:0"/>,
    #    whose stanza has no for= or <body start end/> interface: those two
    #    are set on the XML element directly.
    quote = "> ping?\n"
    reply = xmpp.make_message(mto=CONTACT, mbody=quote + "pong from slixmpp", mtype="chat")
    reply["reply"]["to"] = ping["from"].bare
    reply["reply"]["id"] = ping_id
    fb = reply["fallback"]
    fb.xml.set("for", Reply.namespace)
    ET.SubElement(fb.xml, "{urn:xmpp:fallback:0}body",
                  {"start": "0", "end": str(len(quote))})
    reply.send()

    # 5. XEP-0424 with the plugin's helper. slixmpp 1.8 speaks version 0.3
    #    of the XEP (<apply-to xmlns="urn:xmpp:fasten:0"><retract
    #    xmlns="urn:xmpp:message-retract:0"/></apply-to>), which the gateway
    #    reads as well as version 1.
    xmpp["xep_0424"].send_retraction(CONTACT, m1["id"])

    # 6. XEP-0054, with the plugin's helper.
    try:
        iq = await asyncio.wait_for(
            xmpp["xep_0054"].get_vcard(CONTACT, local=False, cached=False, timeout=WAIT),
            WAIT + 1)
    except (asyncio.TimeoutError, slixmpp.exceptions.IqTimeout):
        raise Fail("timed out waiting for the vCard")
    seen["vcard_fn"] = iq["vcard_temp"]["FN"]

    with open(out, "w") as f:
        json.dump(seen, f)


def main():
    if len(sys.argv) != 5:
        sys.exit("usage: slixmpp_fidelity.py HOST:PORT JID PASSWORD OUT.json")
    addr, jid, password, out = sys.argv[1:]
    host, port = addr.rsplit(":", 1)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    xmpp = Client(jid, password)
    xmpp.connect((host, int(port)), force_starttls=False, disable_starttls=True)
    code = 0
    try:
        xmpp.loop.run_until_complete(asyncio.wait_for(run(xmpp, out), 28))
    except Fail as e:
        print("slixmpp_fidelity: " + str(e), file=sys.stderr)
        code = 1
    except asyncio.TimeoutError:
        print("slixmpp_fidelity: the whole run took over 28s", file=sys.stderr)
        code = 1
    except slixmpp.exceptions.IqError as e:
        print("slixmpp_fidelity: vCard error: %s" % e.iq, file=sys.stderr)
        code = 1
    finally:
        xmpp.disconnect()
        try:
            xmpp.loop.run_until_complete(asyncio.wait_for(xmpp.disconnected, 3))
        except Exception:
            pass
    sys.exit(code)


if __name__ == "__main__":
    main()
