//! Human units in the spec: sizes (`100 MiB`) and durations (`30d`).

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;

/// A number of bytes, written `512 KiB`, `100 MiB`, `1 GB` or plain bytes `1024 B`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ByteSize(pub u64);

/// A length of time, written `90s`, `15m`, `12h`, `30d` or `2w`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Duration {
    pub seconds: u64,
}

const SIZE_PATTERN: &str = r"^[0-9]+ ?(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$";
const DURATION_PATTERN: &str = r"^[0-9]+(s|m|h|d|w)$";

impl ByteSize {
    pub const KIB: u64 = 1024;
    pub const MIB: u64 = 1024 * 1024;
    pub const GIB: u64 = 1024 * 1024 * 1024;

    /// Parses `100 MiB`; `None` when the text is not a size.
    pub fn parse(text: &str) -> Option<Self> {
        let digits = text.bytes().take_while(u8::is_ascii_digit).count();
        let (num, unit) = text.split_at(digits);
        let n: u64 = num.parse().ok()?;
        let factor: u64 = match unit.trim_start() {
            "B" => 1,
            "KB" => 1000,
            "MB" => 1000_u64.pow(2),
            "GB" => 1000_u64.pow(3),
            "TB" => 1000_u64.pow(4),
            "KiB" => 1 << 10,
            "MiB" => 1 << 20,
            "GiB" => 1 << 30,
            "TiB" => 1 << 40,
            _ => return None,
        };
        n.checked_mul(factor).map(Self)
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let units = [
            (1 << 40, "TiB"),
            (1 << 30, "GiB"),
            (1 << 20, "MiB"),
            (1 << 10, "KiB"),
        ];
        for (factor, unit) in units {
            if self.0 >= factor && self.0.is_multiple_of(factor) {
                return write!(f, "{} {unit}", self.0 / factor);
            }
        }
        write!(f, "{} B", self.0)
    }
}

impl Duration {
    /// Parses `30d`; `None` when the text is not a duration.
    pub fn parse(text: &str) -> Option<Self> {
        let (num, unit) = text.split_at(text.len().checked_sub(1)?);
        let n: u64 = num.parse().ok()?;
        let factor = match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            "w" => 604_800,
            _ => return None,
        };
        n.checked_mul(factor).map(|seconds| Self { seconds })
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let units = [(604_800, "w"), (86_400, "d"), (3600, "h"), (60, "m")];
        for (factor, unit) in units {
            if self.seconds >= factor && self.seconds.is_multiple_of(factor) {
                return write!(f, "{}{unit}", self.seconds / factor);
            }
        }
        write!(f, "{}s", self.seconds)
    }
}

macro_rules! text_unit {
    ($ty:ident, $pattern:expr, $what:expr) => {
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                $ty::parse(&text).ok_or_else(|| {
                    serde::de::Error::custom(format!("{text:?} is not {}", $what))
                })
            }
        }

        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl JsonSchema for $ty {
            fn schema_name() -> Cow<'static, str> {
                stringify!($ty).into()
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({
                    "type": "string",
                    "pattern": $pattern,
                    "description": $what,
                })
            }
        }
    };
}

text_unit!(ByteSize, SIZE_PATTERN, "a size such as \"100 MiB\"");
text_unit!(Duration, DURATION_PATTERN, "a duration such as \"30d\"");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_and_print() {
        assert_eq!(ByteSize::parse("100 MiB"), Some(ByteSize(100 << 20)));
        assert_eq!(ByteSize::parse("1GB"), Some(ByteSize(1_000_000_000)));
        assert_eq!(ByteSize::parse("12"), None);
        assert_eq!(ByteSize::parse("12 parsecs"), None);
        assert_eq!(ByteSize(100 << 20).to_string(), "100 MiB");
        assert_eq!(ByteSize(1_000).to_string(), "1000 B");
    }

    proptest::proptest! {
        #[test]
        fn sizes_and_durations_round_trip(n in 0_u64..(1 << 50), secs in 0_u64..(1 << 40)) {
            proptest::prop_assert_eq!(ByteSize::parse(&ByteSize(n).to_string()), Some(ByteSize(n)));
            let d = Duration { seconds: secs };
            proptest::prop_assert_eq!(Duration::parse(&d.to_string()), Some(d));
        }
    }

    #[test]
    fn durations_parse_and_print() {
        assert_eq!(
            Duration::parse("30d"),
            Some(Duration { seconds: 2_592_000 })
        );
        assert_eq!(Duration::parse("d"), None);
        assert_eq!(Duration::parse("5y"), None);
        assert_eq!(Duration { seconds: 7200 }.to_string(), "2h");
    }
}
