//! XEP-0313: Message Archive Management (urn:xmpp:mam:2), with XEP-0059 paging and XEP-0359
//! stanza ids. Which messages are archived, what a query asks for, preferences, and the
//! result messages and `<fin/>` a query is answered with. No IO: the caller stores and reads.

use chrono::{DateTime, Utc};
use jid::{BareJid, FullJid, Jid};
use xmpp_parsers::data_forms::DataForm;
use xmpp_parsers::date::DateTime as XmppDateTime;
use xmpp_parsers::delay::Delay;
use xmpp_parsers::forwarding::Forwarded;
use xmpp_parsers::mam::{Fin, Query, QueryId, Result_};
use xmpp_parsers::mam_prefs::{DefaultPrefs, Prefs};
use xmpp_parsers::message::Message;
use xmpp_parsers::rsm::{First, SetResult};
use xmpp_parsers::stanza_id::StanzaId;

use crate::Error;

/// The namespace, also the disco feature on an account's bare JID.
pub const NS: &str = xmpp_parsers::ns::MAM;

/// Whether a message may go into a user archive: the XEP-0160/XEP-0334 rules (chat or normal,
/// no `no-store`/`no-permanent-store` hint, a body or a `store` hint). Errors, headlines and
/// groupchat messages are never archived in a user's archive.
pub fn is_archivable(message: &Message) -> bool {
    crate::xep0160_offline::should_store(message)
}

/// Where the requested page lies.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Page {
    /// From the oldest match forwards (no RSM `after`/`before`).
    #[default]
    Oldest,
    /// Forwards after this stanza id.
    After(String),
    /// Backwards before this stanza id.
    Before(String),
    /// The last page (RSM `<before/>` with no id).
    Newest,
}

/// A parsed archive query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArchiveQuery {
    /// Echoed in every result.
    pub queryid: Option<String>,
    /// Only messages exchanged with this bare JID.
    pub with: Option<BareJid>,
    /// Only messages archived at or after this time.
    pub start: Option<DateTime<Utc>>,
    /// Only messages archived at or before this time.
    pub end: Option<DateTime<Utc>>,
    /// Where the page is.
    pub page: Page,
    /// Page size, already capped by the server's limit.
    pub max: u32,
    /// `<flip-page/>`: the page's results in reverse order.
    pub flip: bool,
}

fn bad(field: &str, reason: impl ToString) -> Error {
    Error::MamBadField {
        field: field.to_owned(),
        reason: reason.to_string(),
    }
}

fn single<'a>(field: &str, values: &'a [String]) -> Result<Option<&'a str>, Error> {
    match values {
        [] => Ok(None),
        [one] if one.is_empty() => Ok(None),
        [one] => Ok(Some(one)),
        _ => Err(bad(field, "more than one value")),
    }
}

fn date(field: &str, value: Option<&str>) -> Result<Option<DateTime<Utc>>, Error> {
    value
        .map(|v| {
            v.parse::<XmppDateTime>()
                .map(|d| d.0.with_timezone(&Utc))
                .map_err(|e| bad(field, e))
        })
        .transpose()
}

/// Parses a query; `max_page` caps the page size (also the size when the client names none).
pub fn parse_query(query: Query, max_page: u32) -> Result<ArchiveQuery, Error> {
    if query.node.is_some() {
        return Err(Error::MamUnsupportedField("node".to_owned()));
    }
    let mut parsed = ArchiveQuery {
        queryid: query.queryid.map(|QueryId(id)| id),
        with: None,
        start: None,
        end: None,
        page: Page::Oldest,
        max: max_page,
        flip: query.flip_page,
    };
    let (mut after_id, mut before_id) = (None, None);
    for field in query.form.map(|f: DataForm| f.fields).unwrap_or_default() {
        let Some(var) = field.var.as_deref() else {
            continue;
        };
        let value = single(var, &field.values)?;
        match var {
            "FORM_TYPE" => {
                if value.is_some_and(|v| v != NS) {
                    return Err(bad(var, "not urn:xmpp:mam:2"));
                }
            }
            "with" => {
                parsed.with = value
                    .map(|v| Jid::new(v).map(|j| j.to_bare()).map_err(|e| bad(var, e)))
                    .transpose()?;
            }
            "start" => parsed.start = date(var, value)?,
            "end" => parsed.end = date(var, value)?,
            "after-id" => after_id = value.map(str::to_owned),
            "before-id" => before_id = value.map(str::to_owned),
            other => return Err(Error::MamUnsupportedField(other.to_owned())),
        }
    }
    if let Some(set) = query.set {
        if let Some(max) = set.max {
            parsed.max = u32::try_from(max).unwrap_or(u32::MAX).min(max_page);
        }
        if set.index.is_some() {
            return Err(Error::MamUnsupportedField("index".to_owned()));
        }
        // RSM `<before/>` with no text parses as an empty string: the last page.
        match (set.after, set.before) {
            (Some(after), _) => after_id = Some(after),
            (None, Some(before)) if before.is_empty() => parsed.page = Page::Newest,
            (None, Some(before)) => before_id = Some(before),
            (None, None) => {}
        }
    }
    if parsed.page == Page::Oldest {
        parsed.page = match (after_id, before_id) {
            (Some(after), _) => Page::After(after),
            (None, Some(before)) => Page::Before(before),
            (None, None) => Page::Oldest,
        };
    }
    Ok(parsed)
}

/// One result message of a query: the archived `message` forwarded with its archive time.
pub fn result_message(
    owner: &BareJid,
    to: &FullJid,
    queryid: Option<&str>,
    stanza_id: String,
    stored_at: DateTime<Utc>,
    message: Message,
) -> Message {
    let result = Result_ {
        id: stanza_id,
        queryid: queryid.map(|q| QueryId(q.to_owned())),
        forwarded: Forwarded {
            delay: Some(Delay {
                from: None,
                stamp: XmppDateTime(stored_at.fixed_offset()),
                data: None,
            }),
            message,
        },
    };
    let mut out = Message::new(Some(Jid::from(to.clone())));
    out.from = Some(Jid::from(owner.clone()));
    out.payloads.push(result.into());
    out
}

/// The `<fin/>` ending a query: first and last stanza ids of the page, and how many messages
/// match the query in all.
pub fn fin(complete: bool, first: Option<String>, last: Option<String>, count: u64) -> Fin {
    Fin {
        complete,
        set: SetResult {
            first: first.map(|item| First { index: None, item }),
            last,
            count: Some(usize::try_from(count).unwrap_or(usize::MAX)),
        },
    }
}

/// Adds our XEP-0359 `<stanza-id/>` to a message, first removing any that claims to be from
/// `by` (a client must not be able to plant ids in our name, XEP-0359 §5).
pub fn stamp_stanza_id(message: &mut Message, by: &BareJid, id: &str) {
    let by_jid = Jid::from(by.clone());
    message.payloads.retain(|p| {
        !(p.is("stanza-id", xmpp_parsers::ns::SID)
            && StanzaId::try_from(p.clone()).is_ok_and(|s| s.by == by_jid))
    });
    message.payloads.push(
        StanzaId {
            id: id.to_owned(),
            by: by_jid,
        }
        .into(),
    );
}

/// Whether messages with `contact` go into an archive with these preferences (XEP-0313 §6.1):
/// `never` beats `always`, both beat the default; a bare JID in a list covers its resources.
pub fn should_archive(prefs: &Prefs, contact: &Jid, in_roster: bool) -> bool {
    let listed = |list: &[Jid]| {
        list.iter().any(|j| match j.try_as_full() {
            Ok(_) => j == contact,
            Err(_) => j.to_bare() == contact.to_bare(),
        })
    };
    if listed(&prefs.never) {
        return false;
    }
    if listed(&prefs.always) {
        return true;
    }
    match prefs.default_ {
        DefaultPrefs::Always => true,
        DefaultPrefs::Never => false,
        DefaultPrefs::Roster => in_roster,
    }
}

/// Preferences of someone who never set any: `default` for everyone.
pub fn default_prefs(default: DefaultPrefs) -> Prefs {
    Prefs {
        default_: default,
        always: Vec::new(),
        never: Vec::new(),
    }
}

#[cfg(test)]
#[path = "xep0313_mam_tests.rs"]
mod tests;
