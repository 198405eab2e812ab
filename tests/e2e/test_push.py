"""XEP-0357 push notifications: a slixmpp client acting as the app server gets a pubsub publish
with the summary form (and never the body) when a message reaches an account with no session or
with a detached XEP-0198 session; disable stops it."""

import asyncio
import xml.etree.ElementTree as ET

from slixmpp.exceptions import IqError, IqTimeout
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from e2e_client import WAIT, Client, run, take
from raw_stream import logged_in, q
from test_sm import SM, SmStream, authenticated, chat

PUSH = "urn:xmpp:push:0"
PUBSUB = "http://jabber.org/protocol/pubsub"
DATA = "jabber:x:data"
SECRET = "app-token-s3cret"
OPTIONS = (
    f"<x xmlns='{DATA}' type='submit'>"
    "<field var='FORM_TYPE'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>"
    f"<field var='secret'><value>{SECRET}</value></field></x>"
)


class AppServer(Client):
    """A logged-in client standing in for the app server: collects publish IQs and acks them."""

    def __init__(self, server, user: str):
        super().__init__(server, user, "appserver")
        self.publishes: asyncio.Queue = asyncio.Queue()
        self.register_handler(Callback(
            "e2e push publish",
            MatchXPath(f"{{jabber:client}}iq/{{{PUBSUB}}}pubsub"),
            self._on_publish,
        ))

    def _on_publish(self, iq) -> None:
        self.publishes.put_nowait(ET.fromstring(str(iq)))
        iq.reply(clear=True).send()


def summary(publish: ET.Element) -> dict[str, list[str]]:
    form = publish.find(
        f"{{{PUBSUB}}}pubsub/{{{PUBSUB}}}publish/{{{PUBSUB}}}item/{{{PUSH}}}notification/{{{DATA}}}x"
    )
    assert form is not None, ET.tostring(publish)
    fields = {f.get("var"): [v.text for v in f.findall(f"{{{DATA}}}value")]
              for f in form.findall(f"{{{DATA}}}field")}
    assert fields.pop("FORM_TYPE") == ["urn:xmpp:push:summary"]
    return fields


def node_of(publish: ET.Element) -> str:
    return publish.find(f"{{{PUBSUB}}}pubsub/{{{PUBSUB}}}publish").get("node")


async def push_iq(client: Client, xml: str):
    iq = client.make_iq_set()
    iq.xml.append(ET.fromstring(xml))
    return await iq.send(timeout=WAIT)


async def wait_gone(pinger: Client, full_jid: str) -> None:
    """Pings `full_jid` until the server answers for it with an error: its session is unbound."""
    for _ in range(40):
        try:
            await pinger.plugin["xep_0199"].send_ping(full_jid, timeout=0.5)
        except IqError:
            return
        except IqTimeout:
            continue
    raise AssertionError(f"{full_jid} still bound")


@run
async def test_offline_message_notifies_the_app_server_until_disabled(fresh_server):
    server = fresh_server
    user = server.new_account("push-user")
    app_jid = server.new_account("push-app") + "/appserver"
    server.new_account("push-friend")
    app = await AppServer(server, "push-app").online(roster=False)
    friend = await Client(server, "push-friend", "desk").online(roster=False)
    phone = await Client(server, "push-user", "phone").online(roster=False)
    try:
        info = await phone.plugin["xep_0030"].get_info(jid=user, timeout=WAIT)
        assert PUSH in info["disco_info"]["features"]
        # Without a node the request is refused.
        try:
            await push_iq(phone, f"<enable xmlns='{PUSH}' jid='{app_jid}'/>")
            raise AssertionError("enable without node accepted")
        except IqError as err:
            assert err.condition == "bad-request"
        await push_iq(phone, f"<enable xmlns='{PUSH}' jid='{app_jid}' node='dev-1'>{OPTIONS}</enable>")
        await phone.close()
        await wait_gone(friend, f"{user}/phone")

        friend.send_message(mto=user, mbody="the secret body", mtype="chat")
        publish = await take(app.publishes, "the push notification")
        assert publish.get("from") == user and publish.get("type") == "set"
        assert node_of(publish) == "dev-1"
        fields = summary(publish)
        assert fields["message-count"] == ["1"]
        assert fields["last-message-sender"] == [f"{server.jid('push-friend')}/desk"]
        assert b"the secret body" not in ET.tostring(publish)
        assert SECRET in ET.tostring(
            publish.find(f"{{{PUBSUB}}}pubsub/{{{PUBSUB}}}publish-options"), encoding="unicode")

        # Disable dev-1 (its rate limit is forgotten with it) and dev-a, which was never
        # notified: only dev-b may be notified now. Both disabled nodes sort before dev-b, so
        # a notification for either would come first.
        phone = await Client(server, "push-user", "phone").online(roster=False)
        await push_iq(phone, f"<disable xmlns='{PUSH}' jid='{app_jid}' node='dev-1'/>")
        for node in ("dev-a", "dev-b"):
            await push_iq(phone, f"<enable xmlns='{PUSH}' jid='{app_jid}' node='{node}'/>")
        await push_iq(phone, f"<disable xmlns='{PUSH}' jid='{app_jid}' node='dev-a'/>")
        await phone.close()
        await wait_gone(friend, f"{user}/phone")
        friend.send_message(mto=user, mbody="second", mtype="chat")
        publish = await take(app.publishes, "the notification after disable")
        assert node_of(publish) == "dev-b"
        assert publish.find(f"{{{PUBSUB}}}pubsub/{{{PUBSUB}}}publish-options") is None
        assert app.publishes.empty()
    finally:
        for client in (phone, friend, app):
            await client.close()


@run
async def test_detached_sm_session_notifies(fresh_server):
    server = fresh_server
    user = server.new_account("push-sm")
    app_jid = server.new_account("push-sm-app") + "/appserver"
    server.new_account("push-sm-friend")
    app = await AppServer(server, "push-sm-app").online(roster=False)

    def detach() -> str:
        """Enables push and resumable SM on a raw stream, then cuts its connection."""
        phone = SmStream(logged_in(server, "push-sm", "phone"))
        phone.stream.send("<presence/>")
        phone.stream.send(f"<iq type='set' id='push1'><enable xmlns='{PUSH}' jid='{app_jid}' "
                          f"node='sm-node'/></iq>")
        while (reply := phone.next()).get("id") != "push1":
            pass
        assert reply.get("type") == "result", ET.tostring(reply)
        previd = phone.enable(max_secs=120).get("id")
        phone.stream.close()
        return previd

    previd = await asyncio.to_thread(detach)
    friend = await asyncio.to_thread(logged_in, server, "push-sm-friend", "desk")
    try:
        # The server notices the cut connection on its own time: send until a notification
        # comes, each message a chance (only a detached session's messages notify).
        publish = None
        for n in range(20):
            chat(friend, f"{user}/phone", f"while away {n}")
            try:
                publish = await take(app.publishes, "a push for the detached session", timeout=1.0)
                break
            except AssertionError:
                continue
        assert publish is not None, "no push notification for the detached session"
        assert node_of(publish) == "sm-node"
        assert b"while away" not in ET.tostring(publish)

        def resume() -> None:
            again = authenticated(server, "push-sm")
            again.send(f"<resume xmlns='{SM}' previd='{previd}' h='0'/>")
            stream = SmStream(again)
            assert stream.next().tag == q(SM, "resumed")
            # The message that caused the notification is still there.
            stream.message(f"while away {0}")
            again.close()

        await asyncio.to_thread(resume)
    finally:
        friend.close()
        await app.close()
