"""tsung scenarios (XML, built with ElementTree) for each measured phase.

Every user logs in the same way: RFC 6120 STARTTLS, SASL PLAIN over TLS, resource binding,
initial presence. Users are user1..userN with password benchpassI (tsung's own id scheme).
"""

import math
import socket
import xml.etree.ElementTree as ET

from .certs import DOMAIN, MUC
from .server import PASS_PREFIX, USER_PREFIX

DTD = '<!DOCTYPE tsung SYSTEM "/usr/share/tsung/tsung-1.0.dtd">'


def _el(parent, tag, **attrs):
    return ET.SubElement(parent, tag, {k: str(v) for k, v in attrs.items()})


def _req(parent, type_, ack="local", subst=False, **attrs):
    request = _el(parent, "request", subst="true") if subst else _el(parent, "request")
    return _el(request, "jabber", type=type_, ack=ack, **attrs)


def _think(parent, seconds):
    _el(parent, "thinktime", value=f"{seconds:g}", random="false")


def _login(session):
    # tsung's "local" ack takes the first bytes received as the answer; servers that send the
    # stream header and the features in two writes would then race it (the next request goes
    # out before the server is ready). A regexp per step waits for the right element instead;
    # tsung keeps the last regexp for later requests, so every acked request names its own.
    _req(session, "connect", regexp="features")
    _req(session, "starttls", ack="bidi_ack")
    _req(session, "connect", regexp="features")
    tr = _el(session, "transaction", name="login")
    _req(tr, "auth_sasl", regexp="success|failure")
    _req(tr, "connect", regexp="features")
    _req(tr, "auth_sasl_bind", regexp="</iq>")
    _req(session, "presence:initial", ack="no_ack")


def _document(port, users, arrival_rate, build_session, max_users):
    root = ET.Element("tsung", loglevel="warning", dumptraffic="false", version="1.0",
                      backend="fullstats")
    clients = _el(root, "clients")
    _el(clients, "client", host=socket.gethostname().split(".")[0], use_controller_vm="true",
        maxusers=max_users)
    servers = _el(root, "servers")
    _el(servers, "server", host="127.0.0.1", port=port, type="tcp")
    load = _el(root, "load")
    # Arrivals are Poisson: give the phase room and let maxnumber stop it at `users`.
    phase = _el(load, "arrivalphase", phase=1, duration=math.ceil(users / arrival_rate * 1.5 + 2),
                unit="second")
    _el(phase, "users", arrivalrate=f"{arrival_rate:g}", unit="second", maxnumber=users)
    options = _el(root, "options")
    # A user whose server never answers gives up after 30 s instead of holding tsung forever.
    # It is also how long the login barrier ("wait_global") waits for a late user.
    _el(options, "option", name="global_ack_timeout", value=30000)
    for name, value in (("domain", DOMAIN), ("userid_max", users), ("global_number", users),
                        ("username", USER_PREFIX),
                        ("passwd", PASS_PREFIX), ("muc_service", MUC)):
        _el(options, "option", type="ts_jabber", name=name, value=value)
    sessions = _el(root, "sessions")
    session = _el(sessions, "session", probability=100, name="bench", type="ts_jabber",
                  bidi="true")
    build_session(session)
    return DTD + "\n" + ET.tostring(root, encoding="unicode")


def _barrier(session, spread=None):
    """Waits until every user has logged in (tsung's global barrier), then, if `spread` is
    given, a random (exponential) delay of that mean so senders do not fire in lockstep."""
    _el(session, "thinktime", value="wait_global")
    if spread:
        _el(session, "thinktime", value=f"{spread:g}", random="true")


def sessions(port, users, rate, hold):
    """Users log in and idle until all are in, then `hold` s more: memory per idle session."""
    def build(s):
        _login(s)
        _barrier(s)
        _think(s, hold)
        _req(s, "close", ack="no_ack")
    return _document(port, users, rate, build, users + 10)


def chat(port, users, rate, msg_rate, duration):
    """Each user sends stamped 1:1 messages to online users; together `msg_rate` per second."""
    interval = users / msg_rate
    count = max(1, round(duration / interval))

    def build(s):
        _login(s)
        _barrier(s, interval)
        loop = _el(s, "for", var="i", **{"from": 1, "to": count, "incr": 1})
        _req(loop, "chat", ack="no_ack", size=64, destination="online", stamped="true")
        _think(loop, interval)
        _think(s, 2)  # let the last messages arrive before leaving
        _req(s, "close", ack="no_ack")
    return _document(port, users, rate, build, users + 10), users * count


def muc(port, users, rate, msg_rate, duration):
    """`users` occupants join one room, then together send `msg_rate` messages/s."""
    interval = users / msg_rate
    count = max(1, round(duration / interval))

    def build(s):
        _login(s)
        dyn = _el(s, "setdynvars", sourcetype="random_string", length=12)
        _el(dyn, "var", name="nick")
        _req(s, "muc:join", ack="no_ack", subst=True, room="bench", nick="%%_nick%%")
        _barrier(s, interval)
        loop = _el(s, "for", var="i", **{"from": 1, "to": count, "incr": 1})
        _req(loop, "muc:chat", ack="no_ack", room="bench", size=64, stamped="true")
        _think(loop, interval)
        _think(s, 2)
        _req(s, "close", ack="no_ack")
    return _document(port, users, rate, build, users + 10), users * count
