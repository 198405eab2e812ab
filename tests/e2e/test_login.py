"""RFC 6120 §5-§6: STARTTLS is required, SASL SCRAM login (and -PLUS channel binding), refusals,
and XEP-0368 direct TLS, all against the real server."""

import ssl

import pytest

from e2e_client import Client, run
from raw_stream import (
    SASL_NS,
    TLS_NS,
    RawStream,
    Scram,
    StreamClosed,
    failure_condition,
    mechanisms,
    q,
    sasl_exchange,
    secured,
    tls_server_end_point,
)


def test_starttls_required_before_anything(server):
    stream = RawStream(server)
    try:
        features = stream.open()
        starttls = features.find(q(TLS_NS, "starttls"))
        assert starttls is not None, "no <starttls/> offered"
        assert starttls.find(q(TLS_NS, "required")) is not None, "<starttls/> not <required/>"
        assert mechanisms(features) == [], "SASL mechanisms offered before TLS"
        # RFC 6120 §5.3.1 / §4.9.3.10: without TLS the server may answer <auth/> with a SASL
        # <encryption-required/> failure or close the stream (policy-violation /
        # unsupported-stanza-type / not-authorized). Anything else breaks the rule.
        stream.send(f"<auth xmlns='{SASL_NS}' mechanism='SCRAM-SHA-256'>biwsbj1hbGljZSxyPWFiYw==</auth>")
        reply = stream.next()
        if reply.tag == q(SASL_NS, "failure"):
            assert failure_condition(reply) == "encryption-required"
        else:
            assert reply.tag.endswith("}error"), f"unexpected answer to <auth/>: {reply.tag}"
            condition = [c.tag.split("}")[1] for c in reply if not c.tag.endswith("}text")][0]
            assert condition in {"policy-violation", "not-authorized", "unsupported-stanza-type"}
            with pytest.raises(StreamClosed):
                stream.next()
    finally:
        stream.close()


def test_features_after_starttls_offer_scram_not_plain(server):
    stream, features = secured(server)
    try:
        mechs = mechanisms(features)
        assert {"SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256-PLUS"} <= set(mechs)
        assert "PLAIN" not in mechs, "PLAIN offered although allow_plain = false"
        assert features.find(q(TLS_NS, "starttls")) is None, "STARTTLS offered twice"
    finally:
        stream.close()


@pytest.mark.parametrize("mech", ["SCRAM-SHA-1", "SCRAM-SHA-256"])
@run
async def test_scram_login_with_slixmpp(server, mech):
    client = Client(server, "alice", f"scram-{mech}", mech=mech)
    assert await client.login(), f"{mech} login refused"
    assert client.plugin["feature_mechanisms"].mech.name == mech
    assert str(client.boundjid) == f"alice@example.test/scram-{mech}"
    await client.close()


@pytest.mark.parametrize("hash_name,mech", [("sha256", "SCRAM-SHA-256-PLUS"), ("sha1", "SCRAM-SHA-1-PLUS"),
                                            ("sha512", "SCRAM-SHA-512-PLUS")])
def test_scram_plus_tls_server_end_point(server, hash_name, mech):
    # slixmpp only knows tls-unique (gone in TLS 1.3) and Python 3.11 has no tls-exporter,
    # so this is a raw client binding to the server certificate (RFC 5929 §4).
    stream, _ = secured(server)
    try:
        cert = stream.sock.getpeercert(binary_form=True)
        scram = Scram(hash_name, "alice", server.accounts["alice"],
                      "tls-server-end-point", tls_server_end_point(cert))
        ok, reply = sasl_exchange(stream, mech, scram)
        assert ok, f"correct channel binding refused: {failure_condition(reply)}"
    finally:
        stream.close()


def test_channel_binding_types_announced(server):
    # XEP-0440: the server lists the binding types it can check.
    _, features = secured(server)
    cb = features.find(q("urn:xmpp:sasl-cb:0", "sasl-channel-binding"))
    assert cb is not None, "no XEP-0440 <sasl-channel-binding/>"
    types = {c.get("type") for c in cb}
    assert {"tls-exporter", "tls-server-end-point"} <= types, types


@pytest.mark.parametrize("right", [True, False], ids=["correct", "wrong"])
def test_scram_plus_tls_exporter(server, right):
    # RFC 9266 tls-exporter, the binding for TLS 1.3. Needs pyOpenSSL for the exporter.
    stream = RawStream(server)
    try:
        stream.open()
        stream.starttls(openssl=True)
        assert stream.sock.version() == "TLSv1.3"
        binding = stream.sock.exporter()
        if not right:
            binding = bytes(b ^ 0xFF for b in binding)
        user = "alice" if right else "mallory"
        scram = Scram("sha256", user, server.accounts[user], "tls-exporter", binding)
        ok, reply = sasl_exchange(stream, "SCRAM-SHA-256-PLUS", scram)
        if right:
            assert ok, f"correct tls-exporter binding refused: {failure_condition(reply)}"
        else:
            assert not ok, "a wrong tls-exporter binding was accepted"
            assert failure_condition(reply) == "not-authorized"
    finally:
        stream.close()


def test_scram_plus_wrong_binding_refused(server):
    stream, _ = secured(server)
    try:
        wrong = tls_server_end_point(b"not the certificate")
        scram = Scram("sha256", "mallory", server.accounts["mallory"], "tls-server-end-point", wrong)
        ok, reply = sasl_exchange(stream, "SCRAM-SHA-256-PLUS", scram)
        assert not ok, "a wrong channel binding was accepted"
        assert failure_condition(reply) == "not-authorized"
    finally:
        stream.close()


def test_scram_plus_unknown_binding_type_refused(server):
    stream, _ = secured(server)
    try:
        scram = Scram("sha256", "mallory", server.accounts["mallory"], "tls-unique", b"\0" * 12)
        ok, _ = sasl_exchange(stream, "SCRAM-SHA-256-PLUS", scram)
        assert not ok, "tls-unique binding accepted on a server that cannot check it"
    finally:
        stream.close()


def test_plus_client_flag_y_refused_when_server_offers_plus(server):
    # RFC 5802 §6: "y" says the client thinks the server does not support binding; the
    # server advertised -PLUS, so this is a downgrade and must fail.
    stream, _ = secured(server)
    try:
        scram = Scram("sha256", "mallory", server.accounts["mallory"])
        scram.gs2 = "y,,"
        ok, _ = sasl_exchange(stream, "SCRAM-SHA-256", scram)
        assert not ok, "downgrade flag y accepted although -PLUS is offered"
    finally:
        stream.close()


@pytest.mark.parametrize("user,password", [("alice", "wrong-password-1"), ("nobody", "whatever-pw-1")])
@run
async def test_bad_credentials_refused(server, user, password):
    client = Client(server, user, "bad", password=password, mech="SCRAM-SHA-256")
    assert not await client.login(), "login with bad credentials succeeded"
    await client.close()


@pytest.mark.parametrize("user", ["alice", "nobody"])
def test_unknown_user_and_wrong_password_look_the_same(server, user):
    stream, _ = secured(server)
    try:
        ok, reply = sasl_exchange(stream, "SCRAM-SHA-256", Scram("sha256", user, "wrong-password-1"))
        assert not ok
        assert failure_condition(reply) == "not-authorized"
    finally:
        stream.close()


@run
async def test_direct_tls_login_with_alpn(server):
    client = Client(server, "bob", "direct", direct_tls=True, mech="SCRAM-SHA-256")
    assert await client.login(), "direct TLS login refused"
    ssl_object = client.transport.get_extra_info("ssl_object")
    assert ssl_object is not None
    assert ssl_object.selected_alpn_protocol() == "xmpp-client"
    await client.close()


def test_direct_tls_raw_features(server):
    stream = RawStream(server, direct_tls=True, alpn=["xmpp-client"])
    try:
        assert stream.sock.version() in {"TLSv1.2", "TLSv1.3"}
        features = stream.open()
        assert features.find(q(TLS_NS, "starttls")) is None, "STARTTLS offered inside direct TLS"
        assert "SCRAM-SHA-256" in mechanisms(features)
    finally:
        stream.close()


def test_direct_tls_refuses_other_alpn(server):
    # XEP-0368 clients send ALPN xmpp-client; a server must not agree to a different protocol.
    try:
        stream = RawStream(server, direct_tls=True, alpn=["h2"])
    except ssl.SSLError:
        return
    try:
        assert stream.sock.selected_alpn_protocol() != "h2"
    finally:
        stream.close()


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_tls_versions_and_suites(server, version):
    # [tls] min_version = "1.2": both 1.2 and 1.3 work, with forward-secret AEAD suites only.
    import socket

    ctx = ssl.create_default_context(cafile=str(server.ca))
    ctx.minimum_version = ctx.maximum_version = version
    with socket.create_connection(("127.0.0.1", server.direct_tls_port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="example.test") as tls:
            name, proto, _ = tls.cipher()
            assert proto == {ssl.TLSVersion.TLSv1_2: "TLSv1.2", ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[version]
            assert "GCM" in name or "CHACHA20" in name, name
            if version == ssl.TLSVersion.TLSv1_2:
                assert name.startswith("ECDHE-"), name


def test_scram_plus_end_point_over_tls_1_2(server):
    # tls-server-end-point also works where tls-exporter would need TLS 1.3 (RFC 9266 §3).
    stream = RawStream(server)
    try:
        stream.open()
        stream.send(f"<starttls xmlns='{TLS_NS}'/>")
        assert stream.next().tag == q(TLS_NS, "proceed")
        ctx = stream.tls_context()
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        stream.sock = ctx.wrap_socket(stream.sock, server_hostname="example.test")
        stream.open()
        cert = stream.sock.getpeercert(binary_form=True)
        scram = Scram("sha256", "bob", server.accounts["bob"], "tls-server-end-point", tls_server_end_point(cert))
        ok, reply = sasl_exchange(stream, "SCRAM-SHA-256-PLUS", scram)
        assert ok, failure_condition(reply)
    finally:
        stream.close()
