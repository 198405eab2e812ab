//! XEP-0045 §5: roles and affiliations, and who may change whose (§8 moderator, §9 admin,
//! §10 owner use cases).

use xmpp_parsers::muc::user::{Affiliation, Role};

use super::MucError;

/// Rank of an affiliation, for "may act on" comparisons.
pub fn rank(affiliation: &Affiliation) -> u8 {
    match affiliation {
        Affiliation::Owner => 4,
        Affiliation::Admin => 3,
        Affiliation::Member => 2,
        Affiliation::None => 1,
        Affiliation::Outcast => 0,
    }
}

/// The role an occupant gets on entering (XEP-0045 §5.1.2, default roles).
pub fn default_role(affiliation: &Affiliation, moderated: bool) -> Role {
    match affiliation {
        Affiliation::Owner | Affiliation::Admin => Role::Moderator,
        Affiliation::Member => Role::Participant,
        Affiliation::None if moderated => Role::Visitor,
        Affiliation::None => Role::Participant,
        Affiliation::Outcast => Role::None,
    }
}

/// May an occupant with role `actor` and affiliation `actor_aff` give `target` (affiliation
/// `target_aff`) the role `new`? Kicks are role `none` (§8.2), voice is participant/visitor
/// (§8.3-8.4), moderator is granted by admins (§9.6).
pub fn may_set_role(
    actor: &Role,
    actor_aff: &Affiliation,
    target_aff: &Affiliation,
    new: &Role,
) -> Result<(), MucError> {
    if *actor != Role::Moderator {
        return Err(MucError::Forbidden("only moderators change roles"));
    }
    if rank(target_aff) >= rank(&Affiliation::Admin) && rank(target_aff) >= rank(actor_aff) {
        // §8.2: a moderator cannot kick or silence an admin or owner.
        return Err(MucError::NotAllowed("the target's affiliation protects it"));
    }
    if *new == Role::Moderator && rank(actor_aff) < rank(&Affiliation::Admin) {
        return Err(MucError::Forbidden("only admins grant moderator"));
    }
    Ok(())
}

/// May `actor_aff` change an affiliation from `old` to `new`? Owners may do anything
/// (§10.3-10.6); admins manage members and outcasts below admin (§9.1-9.5).
pub fn may_set_affiliation(
    actor_aff: &Affiliation,
    old: &Affiliation,
    new: &Affiliation,
) -> Result<(), MucError> {
    match actor_aff {
        Affiliation::Owner => Ok(()),
        Affiliation::Admin => {
            let touches_admins = |a: &Affiliation| rank(a) >= rank(&Affiliation::Admin);
            if touches_admins(old) || touches_admins(new) {
                Err(MucError::NotAllowed("only owners change admins and owners"))
            } else {
                Ok(())
            }
        }
        _ => Err(MucError::Forbidden(
            "only admins and owners change affiliations",
        )),
    }
}

/// May `actor_aff` read the list of `list` affiliations (§9.5, §10.5, §10.8)?
pub fn may_list_affiliation(actor_aff: &Affiliation) -> Result<(), MucError> {
    if rank(actor_aff) >= rank(&Affiliation::Admin) {
        Ok(())
    } else {
        Err(MucError::Forbidden(
            "only admins and owners read affiliation lists",
        ))
    }
}

/// Names of affiliations as stored.
pub fn affiliation_name(affiliation: &Affiliation) -> &'static str {
    match affiliation {
        Affiliation::Owner => "owner",
        Affiliation::Admin => "admin",
        Affiliation::Member => "member",
        Affiliation::Outcast => "outcast",
        Affiliation::None => "none",
    }
}

/// Parses a stored or requested affiliation name.
pub fn parse_affiliation(name: &str) -> Option<Affiliation> {
    Some(match name {
        "owner" => Affiliation::Owner,
        "admin" => Affiliation::Admin,
        "member" => Affiliation::Member,
        "outcast" => Affiliation::Outcast,
        "none" => Affiliation::None,
        _ => return None,
    })
}

/// Parses a requested role name.
pub fn parse_role(name: &str) -> Option<Role> {
    Some(match name {
        "moderator" => Role::Moderator,
        "participant" => Role::Participant,
        "visitor" => Role::Visitor,
        "none" => Role::None,
        _ => return None,
    })
}
