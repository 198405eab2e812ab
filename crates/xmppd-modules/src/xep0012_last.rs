//! XEP-0012: Last Activity. To the server's domain: seconds since the server started. To an
//! account's bare JID: seconds since the user logged out, shown only to subscribers.

use chrono::{DateTime, Utc};
use jid::BareJid;
use minidom::Element;
use xso::{AsXml, FromXml, text::EmptyAsNone};

use crate::Error;
use crate::rfc6121::subscription::ContactState;

/// The `jabber:iq:last` namespace.
pub const NS: &str = "jabber:iq:last";

/// A `jabber:iq:last` query: the request has neither `seconds` nor text; the answer has both.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Eq)]
#[xml(namespace = NS, name = "query")]
pub struct LastActivity {
    /// Idle or offline time in whole seconds.
    #[xml(attribute(default))]
    pub seconds: Option<u64>,
    /// The status of the last unavailable presence, if any.
    #[xml(text = EmptyAsNone)]
    pub status: Option<String>,
}

/// Parse a request (or answer) payload.
pub fn parse(payload: Element) -> Result<LastActivity, Error> {
    LastActivity::try_from(payload).map_err(|e| Error::ParsePayload {
        what: "jabber:iq:last query",
        reason: e.to_string(),
    })
}

fn seconds_between(earlier: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    // A clock that went backwards yields 0 rather than a huge number.
    u64::try_from((now - earlier).num_seconds()).unwrap_or(0)
}

/// §4: a query to the server's domain is answered with its uptime.
pub fn server_uptime(started: DateTime<Utc>, now: DateTime<Utc>) -> LastActivity {
    LastActivity {
        seconds: Some(seconds_between(started, now)),
        status: None,
    }
}

/// What the server remembers about an account's last logout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastLogout {
    /// When the last resource went unavailable.
    pub at: DateTime<Utc>,
    /// The status text of that unavailable presence.
    pub status: String,
}

/// §3: a query to `user`'s bare JID from `asker`, whose entry in the user's roster is
/// `contact`. Only the user and contacts with a From/Both subscription may see it. An online
/// user (any available resource) has been active 0 seconds ago; an unknown logout is reported
/// as 0 seconds too, which reveals nothing more than presence does.
pub fn user_last(
    asker: &BareJid,
    user: &BareJid,
    contact: Option<ContactState>,
    online: bool,
    last_logout: Option<&LastLogout>,
    now: DateTime<Utc>,
) -> Result<LastActivity, Error> {
    if asker != user && !contact.is_some_and(|c| c.state.has_from()) {
        return Err(Error::LastActivityNotSubscribed);
    }
    Ok(match (online, last_logout) {
        (false, Some(logout)) => LastActivity {
            seconds: Some(seconds_between(logout.at, now)),
            status: Some(logout.status.clone()).filter(|s| !s.is_empty()),
        },
        _ => LastActivity {
            seconds: Some(0),
            status: None,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rfc6121::subscription::State;
    use proptest::prelude::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn parses_request_and_answer() {
        assert_eq!(
            parse("<query xmlns='jabber:iq:last'/>".parse().unwrap()),
            Ok(LastActivity {
                seconds: None,
                status: None
            })
        );
        assert_eq!(
            parse(
                "<query xmlns='jabber:iq:last' seconds='903'>Heading Home</query>"
                    .parse()
                    .unwrap()
            ),
            Ok(LastActivity {
                seconds: Some(903),
                status: Some("Heading Home".into())
            })
        );
    }

    #[test]
    fn serialises_uptime_and_user_last_activity() {
        let uptime = server_uptime(at("2026-01-01T00:00:00Z"), at("2026-01-01T01:00:00Z"));
        assert_eq!(
            String::from(&Element::from(uptime)),
            "<query xmlns='jabber:iq:last' seconds='3600'/>"
        );
        let juliet = BareJid::new("juliet@capulet.com").unwrap();
        let romeo = BareJid::new("romeo@montague.net").unwrap();
        let logout = LastLogout {
            at: at("2026-01-01T00:00:00Z"),
            status: "Heading Home".into(),
        };
        let both = Some(ContactState::new(State::Both));
        let answer = user_last(
            &romeo,
            &juliet,
            both,
            false,
            Some(&logout),
            at("2026-01-01T00:15:03Z"),
        );
        assert_eq!(
            String::from(&Element::from(answer.unwrap())),
            "<query xmlns='jabber:iq:last' seconds='903'>Heading Home</query>"
        );
        let online = user_last(
            &romeo,
            &juliet,
            both,
            true,
            Some(&logout),
            at("2026-01-01T00:15:03Z"),
        );
        assert_eq!(online.unwrap().seconds, Some(0));
    }

    #[test]
    fn refuses_non_subscribers_and_bad_payloads() {
        let juliet = BareJid::new("juliet@capulet.com").unwrap();
        let stranger = BareJid::new("tybalt@capulet.com").unwrap();
        let to_only = Some(ContactState::new(State::To));
        let now = at("2026-01-01T00:00:00Z");
        assert_eq!(
            user_last(&stranger, &juliet, to_only, true, None, now),
            Err(Error::LastActivityNotSubscribed)
        );
        assert_eq!(
            user_last(&stranger, &juliet, None, true, None, now),
            Err(Error::LastActivityNotSubscribed)
        );
        assert!(
            user_last(&juliet, &juliet, None, true, None, now).is_ok(),
            "self may ask"
        );
        let bad = parse(
            "<query xmlns='jabber:iq:last' seconds='-1'/>"
                .parse()
                .unwrap(),
        )
        .unwrap_err();
        assert_eq!(
            bad.to_string(),
            "malformed jabber:iq:last query payload: text parse error: invalid digit found in string"
        );
    }

    proptest! {
        #[test]
        fn round_trips(seconds in prop::option::of(any::<u64>()), status in prop::option::of("[a-zA-Z0-9 ]{1,30}")) {
            let last = LastActivity { seconds, status };
            prop_assert_eq!(parse(Element::from(last.clone())), Ok(last));
        }
    }
}
