//! XEP-0202: Entity Time. The server answers with UTC and its offset, from an injected clock
//! so that callers (and tests) decide what "now" is.

use chrono::{DateTime, FixedOffset, Utc};
use minidom::Element;
use xmpp_parsers::time::{TimeQuery, TimeResult};

use crate::Error;

/// Where "now" comes from. The server uses [`SystemClock`]; tests pass a fixed time.
pub trait Clock {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        DateTime::<Utc>::from(std::time::SystemTime::now())
    }
}

/// A clock stuck at one instant.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// Parse a time request payload.
pub fn parse(payload: Element) -> Result<TimeQuery, Error> {
    TimeQuery::try_from(payload).map_err(|e| Error::ParsePayload {
        what: "urn:xmpp:time time",
        reason: e.to_string(),
    })
}

/// The result payload: the clock's time in UTC and the server's offset (`+00:00` unless the
/// operator configures a zone; servers run in UTC).
pub fn answer(clock: &impl Clock, offset: FixedOffset) -> TimeResult {
    TimeResult {
        tz_offset: offset,
        utc: clock.now(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn parses_a_request() {
        assert_eq!(
            parse("<time xmlns='urn:xmpp:time'/>".parse().unwrap()),
            Ok(TimeQuery)
        );
    }

    #[test]
    fn serialises_utc_and_offset_from_the_injected_clock() {
        let clock = FixedClock(at("2006-12-19T17:58:35Z"));
        let utc = FixedOffset::east_opt(0).unwrap();
        assert_eq!(
            String::from(&Element::from(answer(&clock, utc))),
            "<time xmlns='urn:xmpp:time'><tzo>+00:00</tzo><utc>2006-12-19T17:58:35Z</utc></time>"
        );
        let denver = FixedOffset::west_opt(6 * 3600).unwrap();
        let xml = String::from(&Element::from(answer(&clock, denver)));
        assert!(
            xml.contains("<tzo>-06:00</tzo><utc>2006-12-19T17:58:35Z</utc>"),
            "{xml}"
        );
    }

    #[test]
    fn refuses_another_element() {
        let err = parse("<query xmlns='urn:xmpp:time'/>".parse().unwrap()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "malformed urn:xmpp:time time payload: \
             expected different XML element (got query in namespace urn:xmpp:time)"
        );
    }
}
