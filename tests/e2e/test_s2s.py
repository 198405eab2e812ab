"""Federation between two xmppd processes (RFC 6120 s2s): a.test on 127.0.0.20 and b.test on
127.0.0.21, static routes to each other. Chat and presence subscriptions cross both ways;
peers authenticate with SASL EXTERNAL when their certificates verify (XEP-0178), with
dialback (XEP-0220) when they do not and the config allows it, and not at all otherwise."""

from __future__ import annotations

import pytest

from e2e_client import Client, drain, online, run
from s2s_support import make_ca, start, stop, wait_log

A, B = "a.test", "b.test"
HOST_A, HOST_B = "127.0.0.20", "127.0.0.21"


def pair(tmp_path, *, shared_ca: bool, require_valid: tuple[bool, bool], muc: bool = False,
         a_settings: dict[str, int] | None = None):
    """Servers for a.test and b.test; with `shared_ca` each trusts the other's certificate."""
    ca_a = make_ca(tmp_path / "ca-a", "CA of a.test")
    ca_b = ca_a if shared_ca else make_ca(tmp_path / "ca-b", "CA of b.test")
    from s2s_support import free_port

    port_a, port_b = free_port(HOST_A), free_port(HOST_B)
    a = start(tmp_path / "a", A, HOST_A, ca_a.parent, s2s_port=port_a,
              trust=[ca_b] if shared_ca else [],
              overrides={B: f"{HOST_B}:{port_b}"}, require_valid=require_valid[0], muc=muc,
              s2s_settings=a_settings)
    try:
        b = start(tmp_path / "b", B, HOST_B, ca_b.parent, s2s_port=port_b,
                  trust=[ca_a] if shared_ca else [],
                  overrides={A: f"{HOST_A}:{port_a}", f"conference.{A}": f"{HOST_A}:{port_a}"},
                  require_valid=require_valid[1])
    except BaseException:
        stop(a)
        raise
    return a, b


async def chat_and_subscribe(a_srv, b_srv) -> None:
    alice = await online(a_srv, "alice", "desk")
    bob = await online(b_srv, "bob", "phone")
    try:
        alice_jid, bob_jid = a_srv.jid("alice"), b_srv.jid("bob")
        alice.send_message(mto=bob_jid, mbody="hello from a.test", mtype="chat")
        got = await bob.chat("hello from a.test", timeout=20)
        assert got["from"].full == f"{alice_jid}/desk"
        bob.send_message(mto=f"{alice_jid}/desk", mbody="hello back from b.test", mtype="chat")
        back = await alice.chat("hello back from b.test", timeout=20)
        assert back["from"].full == f"{bob_jid}/phone"

        # RFC 6121 §3: a subscription across servers, then presence flows to the subscriber.
        alice.send_presence(pto=bob_jid, ptype="subscribe")
        await bob.presence("subscribe from alice", lambda p: p["type"] == "subscribe"
                           and p["from"].bare == alice_jid)
        drain(alice.presences)
        bob.send_presence(pto=alice_jid, ptype="subscribed")
        await alice.roster_push(bob_jid, lambda i: i["subscription"] == "to")
        await alice.presence("bob's presence", lambda p: p["from"].full == f"{bob_jid}/phone"
                             and p["type"] == "available")
        # A later change of bob's presence is broadcast to the remote subscriber.
        bob.send_presence(pstatus="in a meeting", pshow="dnd")
        seen = await alice.presence("bob's dnd", lambda p: p["from"].bare == bob_jid
                                    and p["show"] == "dnd")
        assert seen["status"] == "in a meeting"
        # An IQ to the remote server itself (XEP-0199 ping) is answered across.
        await alice.plugin["xep_0199"].send_ping(b_srv.domain, timeout=15)
    finally:
        await alice.close()
    # At her next login alice's server probes bob's (RFC 6121 §4.3), which answers for him.
    alice = await online(a_srv, "alice", "laptop")
    try:
        probed = await alice.presence("bob's presence after a probe",
                                      lambda p: p["from"].full == f"{bob_jid}/phone", timeout=15)
        assert probed["show"] == "dnd"
    finally:
        await alice.close()
        await bob.close()


@run
async def test_certificates_both_trust_use_sasl_external(tmp_path):
    a, b = pair(tmp_path, shared_ca=True, require_valid=(True, True))
    try:
        await chat_and_subscribe(a, b)
        # Each authenticated the other with its certificate (XEP-0178), never with dialback.
        wait_log(b, r's2s incoming stream authenticated.*remote=a\.test.*mechanism="EXTERNAL"'
                    r'|mechanism="EXTERNAL".*remote=a\.test')
        wait_log(a, r'mechanism="EXTERNAL".*s2s incoming|s2s incoming.*mechanism="EXTERNAL"')
        wait_log(a, r's2s outgoing stream authenticated.*mechanism="EXTERNAL"')
        for server in (a, b):
            assert 'mechanism="dialback"' not in server.log.read_text()
            # No peer address at info level (only our own listeners name addresses).
            peers = [line for line in server.log.read_text().splitlines()
                     if "127.0.0." in line and "listening" not in line]
            assert not peers, peers
    finally:
        stop(a, b)


@run
async def test_untrusted_certificates_fall_back_to_dialback(tmp_path):
    a, b = pair(tmp_path, shared_ca=False, require_valid=(False, False))
    try:
        await chat_and_subscribe(a, b)
        wait_log(b, r'mechanism="dialback"')
        wait_log(a, r'mechanism="dialback"')
        for server in (a, b):
            assert 'mechanism="EXTERNAL"' not in server.log.read_text()
    finally:
        stop(a, b)


@run
async def test_untrusted_peer_is_refused_when_valid_certificates_are_required(tmp_path):
    # a.test would accept anything; b.test requires valid certificates and does not trust a's.
    a, b = pair(tmp_path, shared_ca=False, require_valid=(False, True))
    try:
        alice = await online(a, "alice", "desk")
        bob = await online(b, "bob", "phone")
        try:
            alice.send_message(mto=b.jid("bob"), mbody="should not arrive", mtype="chat")
            error = await alice.message(
                "a bounce", timeout=20, match=lambda m: m["type"] == "error")
            assert error["error"]["condition"] in ("remote-server-not-found",
                                                   "remote-server-timeout")
            wait_log(b, r"dialback refused: no valid certificate")
            # And b.test does not even start to talk to a.test, whose certificate it cannot check.
            bob.send_message(mto=a.jid("alice"), mbody="nor this", mtype="chat")
            error = await bob.message("b's bounce", timeout=20,
                                      match=lambda m: m["type"] == "error")
            assert error["error"]["condition"] == "remote-server-not-found"
            assert not [m for m in drain(bob.messages) if m["body"] == "should not arrive"]
            assert not [m for m in drain(alice.messages) if m["body"] == "nor this"]
        finally:
            await alice.close()
            await bob.close()
    finally:
        stop(a, b)


@run
async def test_incoming_streams_offer_and_accept_only_what_they_should(tmp_path):
    import base64

    from raw_stream import SASL_NS, q
    from s2s_support import RawS2s, features_of, make_leaf

    ca = make_ca(tmp_path / "ca", "shared CA")
    # A certificate for a.test from a CA b.test trusts; no a.test server runs.
    make_leaf(tmp_path / "peer", ca.parent, A)
    b = start(tmp_path / "b", B, HOST_B, ca.parent, trust=[ca], require_valid=True)
    bob = await online(b, "bob", "phone")
    try:
        # Before TLS: only STARTTLS, and no stanza is taken from anyone.
        raw = RawS2s(b, A)
        assert features_of(raw.open()) == {"starttls"}
        raw.send(f"<message from='alice@{A}/x' to='bob@{B}'><body>early</body></message>")
        assert raw.stream_error() == "not-authorized"
        raw.close()

        # A stream to a domain b.test does not serve.
        raw = RawS2s(b, A, to_domain="elsewhere.test")
        raw.begin()
        assert raw.stream_error() == "host-unknown"
        raw.close()

        # TLS without a client certificate: dialback only; EXTERNAL is refused.
        raw = RawS2s(b, A)
        raw.open()
        features = features_of(raw.starttls())
        assert features == {"dialback"}, features
        raw.send(f"<auth xmlns='{SASL_NS}' mechanism='EXTERNAL'>=</auth>")
        assert raw.next().tag == q(SASL_NS, "failure")
        raw.close()

        # TLS with a certificate valid for a.test: EXTERNAL, then stanzas from a.test only.
        raw = RawS2s(b, A, client_cert=tmp_path / "peer")
        raw.open()
        assert features_of(raw.starttls()) == {"EXTERNAL", "dialback"}
        authzid = base64.b64encode(A.encode()).decode()
        raw.send(f"<auth xmlns='{SASL_NS}' mechanism='EXTERNAL'>{authzid}</auth>")
        assert raw.next().tag == q(SASL_NS, "success")
        assert features_of(raw.open()) == set()
        raw.send(f"<message from='alice@{A}/x' to='bob@{B}' type='chat'>"
                 "<body>over a raw s2s stream</body></message>")
        got = await bob.chat("over a raw s2s stream")
        assert got["from"].full == f"alice@{A}/x"
        raw.send(f"<message from='eve@c.test/x' to='bob@{B}'><body>spoofed</body></message>")
        assert raw.stream_error() == "invalid-from"
        raw.close()

        # The same peer may not use the stream for a domain b.test does not serve.
        raw = RawS2s(b, A, client_cert=tmp_path / "peer")
        raw.open()
        raw.starttls()
        raw.send(f"<auth xmlns='{SASL_NS}' mechanism='EXTERNAL'>=</auth>")
        assert raw.next().tag == q(SASL_NS, "success")
        raw.open()
        raw.send(f"<message from='alice@{A}/x' to='someone@c.test'><body>relay?</body></message>")
        assert raw.stream_error() == "host-unknown"
        raw.close()

        # XEP-0368: direct TLS with ALPN xmpp-server; no STARTTLS on offer.
        raw = RawS2s(b, A, client_cert=tmp_path / "peer", direct_tls=True)
        assert raw.sock.selected_alpn_protocol() == "xmpp-server"
        assert features_of(raw.open()) == {"EXTERNAL", "dialback"}
        raw.close()
    finally:
        await bob.close()
        stop(b)


@run
async def test_remote_user_takes_part_in_a_room(tmp_path):
    from e2e_client import Client, take
    from test_muc import configure, groupchat, join

    a, b = pair(tmp_path, shared_ca=True, require_valid=(True, True), muc=True)
    alice, bob = Client(a, "alice", "muc"), Client(b, "bob", "muc")
    for client in (alice, bob):
        client.register_plugin("xep_0045")
    try:
        await alice.online()
        await bob.online()
        room = f"federated@conference.{A}"
        presence, *_ = await join(alice, room, "Alice")
        assert {110, 201} <= {int(c) for c in presence["muc"]["status_codes"]}
        await configure(alice, room)
        alice_room, bob_room = groupchat(alice, room), groupchat(bob, room)
        # bob@b.test enters over s2s; the room's presence and messages come back the same way.
        presence, *_ = await join(bob, room, "Bob")
        assert 110 in {int(c) for c in presence["muc"]["status_codes"]}
        alice.send_message(mto=room, mbody="welcome, remote bob", mtype="groupchat")
        got = await take(bob_room, "alice's groupchat", 20,
                         lambda m: m["body"] == "welcome, remote bob")
        assert got["from"].full == f"{room}/Alice"
        bob.send_message(mto=room, mbody="thanks from b.test", mtype="groupchat")
        got = await take(alice_room, "bob's groupchat", 20,
                         lambda m: m["body"] == "thanks from b.test")
        assert got["from"].full == f"{room}/Bob"
    finally:
        await alice.close()
        await bob.close()
        stop(a, b)


@run
async def test_queue_overflow_and_connect_timeout_bounce(tmp_path):
    import socket

    from s2s_support import free_port

    # A "server" that accepts TCP and never says a word: the link cannot finish connecting.
    silent = socket.socket()
    silent.bind((HOST_B, 0))
    silent.listen(8)
    ca = make_ca(tmp_path / "ca", "CA")
    a = start(tmp_path / "a", A, HOST_A, ca.parent, s2s_port=free_port(HOST_A),
              overrides={"silent.test": f"{HOST_B}:{silent.getsockname()[1]}"},
              s2s_settings={"queue_size": 1, "connect_timeout_secs": 2})
    alice = await online(a, "alice", "desk")
    try:
        for n in range(3):
            alice.send_message(mto="nobody@silent.test", mbody=f"queued {n}", mtype="chat")
        bounces = []
        for _ in range(3):
            error = await alice.message("a bounce", timeout=15,
                                        match=lambda m: m["type"] == "error")
            bounces.append((error["body"], error["error"]["condition"]))
        # The two that found the queue full bounce at once; the one queued waits for the
        # connect timeout.
        assert bounces == [("queued 1", "remote-server-timeout"),
                           ("queued 2", "remote-server-timeout"),
                           ("queued 0", "remote-server-timeout")], bounces
        wait_log(a, r"s2s outgoing link failed .*remote=silent\.test err=timed out")
    finally:
        await alice.close()
        stop(a)
        silent.close()


@run
async def test_idle_link_closes_and_a_new_one_is_made(tmp_path):
    import re

    a, b = pair(tmp_path, shared_ca=True, require_valid=(True, True),
                a_settings={"idle_timeout_secs": 1})
    alice = await online(a, "alice", "desk")
    bob = await online(b, "bob", "phone")
    try:
        alice.send_message(mto=b.jid("bob"), mbody="before idling", mtype="chat")
        await bob.chat("before idling", timeout=20)
        wait_log(a, r"s2s outgoing link closed: idle local=a\.test remote=b\.test")
        alice.send_message(mto=b.jid("bob"), mbody="after idling", mtype="chat")
        await bob.chat("after idling", timeout=20)
        opened = re.findall(r"s2s outgoing stream authenticated local=a\.test remote=b\.test",
                            a.log.read_text())
        assert len(opened) >= 2, a.log_tail()
    finally:
        await alice.close()
        await bob.close()
        stop(a, b)
