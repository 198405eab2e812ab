//! The crate's one error enum: each variant names the step that failed, and maps to exactly one
//! RFC 6120 §8.3 stanza error condition (see [`crate::stanza_error`]).

use xmpp_parsers::stanza_error::{DefinedCondition, ErrorType};

/// Why a request was refused. Every variant knows its stanza error (type and condition).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The request payload did not parse as the element the namespace defines.
    #[error("malformed {what} payload: {reason}")]
    ParsePayload {
        /// The payload that failed, e.g. `jabber:iq:roster query`.
        what: &'static str,
        /// The parser's message.
        reason: String,
    },
    /// RFC 6121 §2.3.3: a roster set carries exactly one item.
    #[error("a roster set must contain exactly one item, found {0}")]
    RosterSetItemCount(usize),
    /// The user tried to put their own JID into their roster.
    #[error("the user's own JID cannot be a roster item")]
    RosterSetOwnJid,
    /// RFC 6121 §2.3.3: the same group twice in one item.
    #[error("duplicate roster group {0:?}")]
    RosterSetDuplicateGroup(String),
    /// RFC 6121 §2.3.3: a `<group/>` with no character data.
    #[error("empty roster group name")]
    RosterSetEmptyGroup,
    /// RFC 6121 §2.3.3: the handle is longer than the server accepts.
    #[error("roster item name is {len} bytes, the limit is {max}")]
    RosterSetNameTooLong {
        /// Length in bytes.
        len: usize,
        /// Configured limit in bytes.
        max: usize,
    },
    /// RFC 6121 §2.3.3: a group name longer than the server accepts.
    #[error("roster group name is {len} bytes, the limit is {max}")]
    RosterSetGroupTooLong {
        /// Length in bytes.
        len: usize,
        /// Configured limit in bytes.
        max: usize,
    },
    /// XEP-0012: last activity of a user is only shown to subscribers.
    #[error("last activity is only visible to contacts with a presence subscription")]
    LastActivityNotSubscribed,
    /// XEP-0049: the query holds no child or more than one.
    #[error("private XML storage takes exactly one child, found {0}")]
    PrivateChildCount(usize),
    /// XEP-0049: `jabber:*` and other reserved namespaces cannot be stored.
    #[error("namespace {0:?} is reserved and cannot be stored")]
    PrivateReservedNamespace(String),
    /// XEP-0049: private data belongs to its owner only.
    #[error("private XML storage of another account")]
    PrivateOtherAccount,
    /// XEP-0054: a vCard bigger than the configured limit.
    #[error("vCard is {len} bytes, the limit is {max}")]
    VcardTooLarge {
        /// Serialised size in bytes.
        len: usize,
        /// Configured limit in bytes.
        max: usize,
    },
    /// XEP-0054: only the owner may publish their vCard.
    #[error("a vCard can only be set by its owner")]
    VcardSetOther,
    /// XEP-0077: in-band registration is switched off.
    #[error("in-band registration is disabled")]
    RegisterDisabled,
    /// XEP-0077: a required field is missing or empty.
    #[error("registration field {0:?} is missing")]
    RegisterMissingField(&'static str),
    /// XEP-0077: the username is not a valid JID localpart.
    #[error("username {0:?} is not a valid JID localpart")]
    RegisterBadUsername(String),
    /// XEP-0077: only a logged-in account can cancel its registration.
    #[error("cancelling a registration requires authentication")]
    RegisterRemoveUnauthenticated,
    /// XEP-0077: a password change or removal for another account.
    #[error("registration change for another account")]
    RegisterOtherAccount,
    /// XEP-0115 §5.4: the disco#info cannot be hashed (duplicate identity or form type).
    #[error("disco#info is ill-formed for caps: {0}")]
    CapsIllFormed(String),
    /// XEP-0030: a node we do not serve.
    #[error("unknown disco node {0:?}")]
    DiscoUnknownNode(String),
    /// XEP-0313: a query filter field that is malformed (bad JID or date).
    #[error("archive query field {field:?} is malformed: {reason}")]
    MamBadField {
        /// The form field.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// XEP-0313: a query filter field this server does not support.
    #[error("archive query field {0:?} is not supported")]
    MamUnsupportedField(String),
    /// XEP-0059/XEP-0313: the paging id names no archived message.
    #[error("archived message {0:?} not found")]
    MamUnknownId(String),
    /// XEP-0191: a block or unblock item that is not a valid JID, or a block with no item.
    #[error("blocking request is malformed: {0}")]
    BlockingBadRequest(String),
    /// XEP-0016: a malformed privacy list request.
    #[error("privacy list request is malformed: {0}")]
    PrivacyBadRequest(String),
    /// XEP-0016: the named list does not exist.
    #[error("privacy list {0:?} not found")]
    PrivacyUnknownList(String),
    /// XEP-0016: a list that is some session's active list, or the default, cannot be removed.
    #[error("privacy list {0:?} is in use")]
    PrivacyListInUse(String),
    /// XEP-0357 §5: enabling push needs the app server's node.
    #[error("push enable without a node")]
    PushMissingNode,
    /// XEP-0357: a publish-options form bigger than the server keeps.
    #[error("push publish-options form is {len} bytes, the limit is {max}")]
    PushFormTooLarge {
        /// Serialised size in bytes.
        len: usize,
        /// The limit in bytes.
        max: usize,
    },
    /// XEP-0357: the account has as many push registrations as it may.
    #[error("the account has {0} push registrations already")]
    PushTooMany(u32),
}

impl Error {
    /// A payload that is not the element `what` names (wrong name or namespace).
    pub fn unexpected_element(what: &'static str, element: &minidom::Element) -> Self {
        Error::ParsePayload {
            what,
            reason: format!(
                "unexpected element {} in namespace {}",
                element.name(),
                element.ns()
            ),
        }
    }

    /// The RFC 6120 §8.3.3 condition and its §8.3.2 error type for this failure.
    pub fn condition(&self) -> (ErrorType, DefinedCondition) {
        use DefinedCondition as C;
        use ErrorType as T;
        match self {
            Self::ParsePayload { .. }
            | Self::RosterSetItemCount(_)
            | Self::RosterSetDuplicateGroup(_) => (T::Modify, C::BadRequest),
            Self::RosterSetOwnJid => (T::Cancel, C::NotAllowed),
            Self::RosterSetEmptyGroup
            | Self::RosterSetNameTooLong { .. }
            | Self::RosterSetGroupTooLong { .. }
            | Self::PrivateChildCount(_)
            | Self::PrivateReservedNamespace(_)
            | Self::VcardTooLarge { .. }
            | Self::RegisterMissingField(_) => (T::Modify, C::NotAcceptable),
            Self::LastActivityNotSubscribed
            | Self::PrivateOtherAccount
            | Self::VcardSetOther
            | Self::RegisterOtherAccount => (T::Auth, C::Forbidden),
            Self::RegisterDisabled => (T::Cancel, C::NotAllowed),
            Self::RegisterBadUsername(_) => (T::Modify, C::JidMalformed),
            Self::RegisterRemoveUnauthenticated => (T::Auth, C::NotAuthorized),
            Self::DiscoUnknownNode(_) => (T::Cancel, C::ItemNotFound),
            Self::CapsIllFormed(_) => (T::Wait, C::InternalServerError),
            Self::MamBadField { .. } | Self::BlockingBadRequest(_) | Self::PrivacyBadRequest(_) => {
                (T::Modify, C::BadRequest)
            }
            Self::MamUnsupportedField(_) => (T::Cancel, C::FeatureNotImplemented),
            Self::MamUnknownId(_) | Self::PrivacyUnknownList(_) => (T::Cancel, C::ItemNotFound),
            Self::PrivacyListInUse(_) => (T::Cancel, C::Conflict),
            Self::PushMissingNode => (T::Modify, C::BadRequest),
            Self::PushFormTooLarge { .. } => (T::Modify, C::NotAcceptable),
            Self::PushTooMany(_) => (T::Wait, C::ResourceConstraint),
        }
    }
}
