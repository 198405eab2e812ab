//! Message archive (XEP-0313) settings.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Which messages a user's archive keeps before the user sets preferences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ArchiveDefault {
    /// Every message.
    #[default]
    Always,
    /// Messages with contacts in the roster only.
    Roster,
    /// None until the user asks.
    Never,
}

/// Message Archive Management (XEP-0313) for user archives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Mam {
    /// Days archived messages are kept; older ones are deleted by a background task. 0 keeps
    /// them forever.
    #[serde(default = "default_retention")]
    pub retention_days: u32,
    /// Most results one query page returns (also the size when a client names none).
    #[serde(default = "default_page")]
    pub max_page_size: u32,
    /// The archiving preference of users who have not set one.
    #[serde(default)]
    pub default: ArchiveDefault,
}

impl Mam {
    /// All defaults (left out when a config is written).
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

impl Default for Mam {
    fn default() -> Self {
        Self {
            retention_days: default_retention(),
            max_page_size: default_page(),
            default: ArchiveDefault::default(),
        }
    }
}

fn default_retention() -> u32 {
    365
}
fn default_page() -> u32 {
    100
}
