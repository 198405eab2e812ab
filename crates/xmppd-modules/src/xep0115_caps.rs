//! XEP-0115: Entity Capabilities. The verification string of our own disco#info, for the
//! `<c/>` element in stream features and in the server's presence.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha1::{Digest, Sha1};
use xmpp_parsers::caps::Caps;
use xmpp_parsers::data_forms::DataForm;
use xmpp_parsers::disco::DiscoInfoResult;
use xmpp_parsers::hashes::Algo;

use crate::Error;

/// The caps node of this server software (XEP-0115 §4: a URI identifying the software).
pub const NODE: &str = "https://github.com/xmppd/xmppd";

/// Appends one value and the `<` separator.
fn push(s: &mut String, value: &str) {
    s.push_str(value);
    s.push('<');
}

/// FORM_TYPE of an extended-information form, refusing forms without one (§5.4 3.6).
fn form_type(form: &DataForm) -> Result<&str, Error> {
    form.form_type()
        .ok_or_else(|| Error::CapsIllFormed("form without FORM_TYPE".into()))
}

/// The string S of XEP-0115 §5.1, before hashing. Fails on the ill-formed cases of §5.4 that
/// our own registry could produce: two identical identities, two forms with one FORM_TYPE.
pub fn verification_string(info: &DiscoInfoResult) -> Result<String, Error> {
    let mut s = String::new();
    // §5.1 steps 2-3: identities by category, type, xml:lang (and name, to be total).
    let mut identities: Vec<[&str; 4]> = info
        .identities
        .iter()
        .map(|i| {
            let lang = i.lang.as_deref().unwrap_or_default();
            [
                i.category.as_str(),
                i.type_.as_str(),
                lang,
                i.name.as_deref().unwrap_or_default(),
            ]
        })
        .collect();
    identities.sort_unstable();
    if let Some(w) = identities.windows(2).find(|w| w[0] == w[1]) {
        return Err(Error::CapsIllFormed(format!(
            "duplicate identity {}",
            w[0].join("/")
        )));
    }
    for parts in identities {
        push(&mut s, &parts.join("/"));
    }
    // Steps 4-5: features (a set, hence sorted and unique).
    for feature in &info.features {
        push(&mut s, feature);
    }
    // Steps 6-7: forms by FORM_TYPE, fields by var, values sorted.
    let mut forms = info
        .extensions
        .iter()
        .map(|f| Ok((form_type(f)?, f)))
        .collect::<Result<Vec<_>, Error>>()?;
    forms.sort_by_key(|(t, _)| *t);
    if let Some(w) = forms.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(Error::CapsIllFormed(format!(
            "duplicate FORM_TYPE {}",
            w[0].0
        )));
    }
    for (form_type, form) in forms {
        push(&mut s, form_type);
        let mut fields: Vec<_> = form
            .fields
            .iter()
            .filter(|f| f.var.as_deref() != Some("FORM_TYPE"))
            .collect();
        fields.sort_by_key(|f| f.var.as_deref().unwrap_or_default());
        for field in fields {
            push(&mut s, field.var.as_deref().unwrap_or_default());
            let mut values: Vec<&str> = field.values.iter().map(String::as_str).collect();
            values.sort_unstable();
            for value in values {
                push(&mut s, value);
            }
        }
    }
    Ok(s)
}

/// The `ver` attribute: base64 of the SHA-1 of S (§5.1 steps 8-9).
pub fn ver(info: &DiscoInfoResult) -> Result<String, Error> {
    Ok(BASE64.encode(Sha1::digest(verification_string(info)?.as_bytes())))
}

/// The `<c/>` element advertising `info` under `node`.
pub fn caps(node: &str, info: &DiscoInfoResult) -> Result<Caps, Error> {
    let digest = Sha1::digest(verification_string(info)?.as_bytes());
    Ok(Caps {
        ext: None,
        node: node.to_owned(),
        hash: Algo::Sha_1,
        ver: digest.to_vec(),
    })
}

#[cfg(test)]
#[path = "xep0115_caps_tests.rs"]
mod tests;
