"""One real client login (RFC 6120 STARTTLS + SASL) and a XEP-0030 disco walk, via slixmpp.

Used to check that every account store works before load is applied, and to find out whether
a server hosts a MUC (XEP-0045) component: xmppd's MUC column is measured once its disco says so.
"""

import asyncio
import logging
import ssl

import slixmpp

logging.getLogger("slixmpp").setLevel(logging.CRITICAL)


class _Probe(slixmpp.ClientXMPP):
    def __init__(self, jid, pw):
        super().__init__(jid, pw)
        self.register_plugin("xep_0030")
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE
        self.result = None
        self.add_event_handler("session_start", self._start)
        self.add_event_handler("failed_auth", self._failed)

    async def _start(self, _event):
        conference = None
        try:
            items = await self["xep_0030"].get_items(jid=self.boundjid.domain, timeout=10)
            for item in items["disco_items"]["items"]:
                info = await self["xep_0030"].get_info(jid=item[0], timeout=10)
                if any(i[0] == "conference" for i in info["disco_info"]["identities"]):
                    conference = item[0]
                    break
        except (slixmpp.exceptions.IqError, slixmpp.exceptions.IqTimeout):
            conference = None
        self.result = {"login": True, "conference": conference}
        self.disconnect()

    def _failed(self, _event):
        self.result = {"login": False, "conference": None}
        self.disconnect()


def run(jid, pw, port, timeout=30):
    """Returns {"login": bool, "conference": jid-or-None}."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    client = _Probe(jid, pw)
    client.connect(("127.0.0.1", port), force_starttls=True)
    done = loop.create_future()
    client.add_event_handler("disconnected", lambda _e: done.done() or done.set_result(True))
    try:
        loop.run_until_complete(asyncio.wait_for(done, timeout))
    except asyncio.TimeoutError:
        pass
    # slixmpp leaves tasks behind: cancel them so closing the loop stays quiet.
    pending = asyncio.all_tasks(loop)
    for task in pending:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.close()
    return client.result or {"login": False, "conference": None}
