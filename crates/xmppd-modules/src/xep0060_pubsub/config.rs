//! XEP-0060 §8.2 node configuration, the options PEP clients rely on: access model, item
//! count, persistence and when the last item is sent (OMEMO and XEP-0402 set these through
//! publish-options, §7.1.5).

use xmpp_parsers::data_forms::{DataForm, DataFormType, Field, FieldType, Option_};

use super::PubSubError;

/// FORM_TYPE of node configuration forms.
pub const NODE_CONFIG: &str = "http://jabber.org/protocol/pubsub#node_config";
/// FORM_TYPE of publish-options forms.
pub const PUBLISH_OPTIONS: &str = "http://jabber.org/protocol/pubsub#publish-options";

/// The most items a node keeps, whatever its configuration asks (`max` means this).
pub const MAX_ITEMS_CAP: u32 = 256;

const ACCESS_MODEL: &str = "pubsub#access_model";
const MAX_ITEMS: &str = "pubsub#max_items";
const PERSIST_ITEMS: &str = "pubsub#persist_items";
const SEND_LAST: &str = "pubsub#send_last_published_item";

/// Who may see a node's items (§4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessModel {
    /// Contacts with a presence subscription (`from` or `both`), the PEP default.
    Presence,
    /// Anyone.
    Open,
    /// Only the owner (PEP has no other affiliations here): private data, XEP-0223.
    Whitelist,
}

/// When the last published item is sent (§6.1.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendLast {
    /// Never.
    Never,
    /// When an entity subscribes.
    OnSub,
    /// When an entity subscribes, and when a subscriber becomes available (PEP default).
    OnSubAndPresence,
}

macro_rules! string_enum {
    ($ty:ident { $($variant:ident => $text:literal),* $(,)? }) => {
        impl $ty {
            /// The form value.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),* }
            }

            /// Parses a form value.
            pub fn parse(value: &str) -> Option<Self> {
                match value { $($text => Some(Self::$variant),)* _ => None }
            }

            fn all() -> &'static [&'static str] {
                &[$($text),*]
            }
        }
    };
}

string_enum!(AccessModel { Presence => "presence", Open => "open", Whitelist => "whitelist" });
string_enum!(SendLast {
    Never => "never",
    OnSub => "on_sub",
    OnSubAndPresence => "on_sub_and_presence",
});

/// A node's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeConfig {
    pub access_model: AccessModel,
    /// At most [`MAX_ITEMS_CAP`].
    pub max_items: u32,
    pub persist_items: bool,
    pub send_last: SendLast,
}

impl Default for NodeConfig {
    /// The PEP defaults of XEP-0163 §4.3: presence access, the last item sent on presence; one
    /// item kept unless asked for more.
    fn default() -> Self {
        Self {
            access_model: AccessModel::Presence,
            max_items: 1,
            persist_items: true,
            send_last: SendLast::OnSubAndPresence,
        }
    }
}

/// Options a form sets; `None` leaves the option as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigPatch {
    pub access_model: Option<AccessModel>,
    pub max_items: Option<u32>,
    pub persist_items: Option<bool>,
    pub send_last: Option<SendLast>,
}

fn bad(field: &str, value: &str) -> PubSubError {
    PubSubError::BadOption {
        field: field.to_owned(),
        value: value.to_owned(),
    }
}

fn parse_bool(field: &str, value: &str) -> Result<bool, PubSubError> {
    match value {
        "1" | "true" => Ok(true),
        "0" | "false" => Ok(false),
        _ => Err(bad(field, value)),
    }
}

impl ConfigPatch {
    /// The options of a node_config or publish-options form. Fields outside the subset are
    /// ignored: clients send options such as `pubsub#deliver_payloads` whose default is
    /// what we do anyway, and refusing them would break publishing.
    pub fn from_form(form: &DataForm) -> Result<Self, PubSubError> {
        let mut patch = Self::default();
        for field in &form.fields {
            let (Some(var), Some(value)) = (field.var.as_deref(), field.values.first()) else {
                continue;
            };
            match var {
                ACCESS_MODEL => {
                    patch.access_model =
                        Some(AccessModel::parse(value).ok_or_else(|| bad(var, value))?);
                }
                MAX_ITEMS => {
                    let max = if value == "max" {
                        MAX_ITEMS_CAP
                    } else {
                        value.parse::<u32>().map_err(|_| bad(var, value))?
                    };
                    if max == 0 {
                        return Err(bad(var, value));
                    }
                    patch.max_items = Some(max.min(MAX_ITEMS_CAP));
                }
                PERSIST_ITEMS => patch.persist_items = Some(parse_bool(var, value)?),
                SEND_LAST => {
                    patch.send_last = Some(SendLast::parse(value).ok_or_else(|| bad(var, value))?);
                }
                _ => {}
            }
        }
        Ok(patch)
    }
}

impl NodeConfig {
    /// This configuration with the patch's options set.
    pub fn apply(mut self, patch: &ConfigPatch) -> Self {
        if let Some(v) = patch.access_model {
            self.access_model = v;
        }
        if let Some(v) = patch.max_items {
            self.max_items = v;
        }
        if let Some(v) = patch.persist_items {
            self.persist_items = v;
        }
        if let Some(v) = patch.send_last {
            self.send_last = v;
        }
        self
    }

    /// publish-options against an existing node: every option given must be what the node
    /// has (§7.1.5), or the publish fails with `precondition-not-met`.
    pub fn check_preconditions(&self, patch: &ConfigPatch) -> Result<(), PubSubError> {
        let mismatch = if patch.access_model.is_some_and(|v| v != self.access_model) {
            Some(ACCESS_MODEL)
        } else if patch.max_items.is_some_and(|v| v != self.max_items) {
            Some(MAX_ITEMS)
        } else if patch.persist_items.is_some_and(|v| v != self.persist_items) {
            Some(PERSIST_ITEMS)
        } else if patch.send_last.is_some_and(|v| v != self.send_last) {
            Some(SEND_LAST)
        } else {
            None
        };
        match mismatch {
            Some(field) => Err(PubSubError::PreconditionNotMet(field.to_owned())),
            None => Ok(()),
        }
    }

    /// How many items are stored: a node that does not persist keeps only the last one, which
    /// is still sent to new subscribers and on presence.
    pub fn items_kept(&self) -> u32 {
        if self.persist_items {
            self.max_items
        } else {
            1
        }
    }

    /// The configuration form of §8.2.
    pub fn form(&self) -> DataForm {
        let list = |var: &str, value: &str, all: &[&str]| {
            let mut field = Field::new(var, FieldType::ListSingle).with_value(value);
            field.options = all
                .iter()
                .map(|v| Option_ {
                    label: None,
                    value: (*v).to_owned(),
                })
                .collect();
            field
        };
        let persist = if self.persist_items { "1" } else { "0" };
        DataForm::new(
            DataFormType::Form,
            NODE_CONFIG,
            vec![
                list(ACCESS_MODEL, self.access_model.as_str(), AccessModel::all()),
                Field::text_single(MAX_ITEMS, &self.max_items.to_string()),
                Field::new(PERSIST_ITEMS, FieldType::Boolean).with_value(persist),
                list(SEND_LAST, self.send_last.as_str(), SendLast::all()),
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(fields: &[(&str, &str)]) -> DataForm {
        DataForm::new(
            DataFormType::Submit,
            PUBLISH_OPTIONS,
            fields
                .iter()
                .map(|(k, v)| Field::text_single(k, v))
                .collect(),
        )
    }

    #[test]
    fn publish_options_parse_and_cap() {
        let patch = ConfigPatch::from_form(&form(&[
            ("pubsub#access_model", "whitelist"),
            ("pubsub#max_items", "max"),
            ("pubsub#persist_items", "true"),
            ("pubsub#send_last_published_item", "never"),
            ("pubsub#notify_retract", "1"),
        ]))
        .unwrap();
        assert_eq!(patch.access_model, Some(AccessModel::Whitelist));
        assert_eq!(patch.max_items, Some(MAX_ITEMS_CAP));
        assert_eq!(patch.persist_items, Some(true));
        assert_eq!(patch.send_last, Some(SendLast::Never));
        let big = ConfigPatch::from_form(&form(&[("pubsub#max_items", "100000")])).unwrap();
        assert_eq!(big.max_items, Some(MAX_ITEMS_CAP));
    }

    #[test]
    fn bad_values_are_refused() {
        for (var, value) in [
            ("pubsub#access_model", "roster"),
            ("pubsub#max_items", "0"),
            ("pubsub#max_items", "many"),
            ("pubsub#persist_items", "yes"),
        ] {
            let err = ConfigPatch::from_form(&form(&[(var, value)])).unwrap_err();
            assert_eq!(err, bad(var, value));
        }
    }

    #[test]
    fn preconditions_compare_with_the_node() {
        let node = NodeConfig::default();
        let same = ConfigPatch {
            access_model: Some(AccessModel::Presence),
            ..ConfigPatch::default()
        };
        assert_eq!(node.check_preconditions(&same), Ok(()));
        let other = ConfigPatch {
            access_model: Some(AccessModel::Open),
            ..ConfigPatch::default()
        };
        assert_eq!(
            node.check_preconditions(&other),
            Err(PubSubError::PreconditionNotMet(
                "pubsub#access_model".into()
            ))
        );
        assert_eq!(node.apply(&other).access_model, AccessModel::Open);
    }

    #[test]
    fn form_round_trips() {
        let config = NodeConfig {
            access_model: AccessModel::Whitelist,
            max_items: 7,
            persist_items: false,
            send_last: SendLast::OnSub,
        };
        let patch = ConfigPatch::from_form(&config.form()).unwrap();
        assert_eq!(NodeConfig::default().apply(&patch), config);
        assert_eq!(config.items_kept(), 1);
    }
}
