//! RFC 6121 roster items, XEP-0237 versions, pending inbound subscriptions.

use xmppd_storage::{
    PendingIn, RosterChange, RosterDelta, RosterItem, RosterVersion, Rosters, StorageError,
    Subscription, User,
};

use super::{DOMAIN, new_account};
use crate::support::Ctx;

fn item(jid: &str, groups: &[&str]) -> RosterItem {
    RosterItem {
        jid: jid.into(),
        name: Some(format!("{jid} name")),
        groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        subscription: Subscription::To,
        ask: false,
        approved: false,
    }
}

pub async fn roster_upsert_get_remove(ctx: &Ctx) {
    let s = &ctx.storage;
    let user = new_account(ctx, "rosterer").await;
    let mut juliet = item("juliet@example.test", &["Lovers", "Capulets", "Lovers"]);
    s.upsert_roster_item(user, &juliet).await.unwrap();
    s.upsert_roster_item(user, &item("benvolio@example.test", &[]))
        .await
        .unwrap();

    let stored = s
        .roster_item(user, "juliet@example.test")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.groups,
        ["Capulets", "Lovers"],
        "sorted, deduplicated"
    );
    assert_eq!(stored.name.as_deref(), Some("juliet@example.test name"));
    assert_eq!(stored.subscription, Subscription::To);

    juliet.name = None;
    juliet.groups = vec!["Verona".into()];
    juliet.subscription = Subscription::Both;
    juliet.ask = true;
    juliet.approved = true;
    s.upsert_roster_item(user, &juliet).await.unwrap();
    let roster = s.roster(user).await.unwrap();
    let jids: Vec<_> = roster.items.iter().map(|i| i.jid.as_str()).collect();
    assert_eq!(jids, ["benvolio@example.test", "juliet@example.test"]);
    assert_eq!(roster.items[1], juliet);

    s.remove_roster_item(user, "juliet@example.test")
        .await
        .unwrap();
    assert_eq!(
        s.roster_item(user, "juliet@example.test").await.unwrap(),
        None
    );
    let err = s
        .remove_roster_item(user, "juliet@example.test")
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StorageError::NotFound {
                what: "roster item"
            }
        ),
        "{err:?}"
    );
    assert_eq!(s.roster(user).await.unwrap().items.len(), 1);

    let ghost = User::new("ghost", DOMAIN);
    let err = s.upsert_roster_item(ghost, &juliet).await.unwrap_err();
    assert!(
        matches!(err, StorageError::NotFound { what: "account" }),
        "{err:?}"
    );
    let err = s.roster(ghost).await.unwrap_err();
    assert!(
        matches!(err, StorageError::NotFound { what: "account" }),
        "{err:?}"
    );
}

pub async fn roster_versions_and_changes_since(ctx: &Ctx) {
    let s = &ctx.storage;
    let user = new_account(ctx, "versioned").await;
    let v0 = s.roster_version(user).await.unwrap();
    let v1 = s
        .upsert_roster_item(user, &item("a@example.test", &[]))
        .await
        .unwrap();
    let v2 = s
        .upsert_roster_item(user, &item("b@example.test", &["G"]))
        .await
        .unwrap();
    assert!(v0 < v1 && v1 < v2, "{v0} {v1} {v2}");
    assert_eq!(s.roster_version(user).await.unwrap(), v2);

    // Up to date: nothing to push.
    let delta = s.roster_changes_since(user, Some(v2)).await.unwrap();
    assert_eq!(
        delta,
        RosterDelta::Changes {
            version: v2,
            changes: vec![]
        }
    );

    let changed_a = RosterItem {
        subscription: Subscription::Both,
        ..item("a@example.test", &[])
    };
    let v3 = s.upsert_roster_item(user, &changed_a).await.unwrap();
    let v4 = s.remove_roster_item(user, "b@example.test").await.unwrap();
    assert!(v2 < v3 && v3 < v4);
    let delta = s.roster_changes_since(user, Some(v2)).await.unwrap();
    assert_eq!(
        delta,
        RosterDelta::Changes {
            version: v4,
            changes: vec![
                RosterChange::Updated(changed_a.clone()),
                RosterChange::Removed("b@example.test".into()),
            ],
        }
    );
    // From v1 on, b's addition and removal collapse into the removal.
    let RosterDelta::Changes { changes, .. } =
        s.roster_changes_since(user, Some(v1)).await.unwrap()
    else {
        panic!("v1 is known");
    };
    assert_eq!(changes.len(), 2, "{changes:?}");

    // Re-adding a removed contact reports it as updated, not removed.
    let v5 = s
        .upsert_roster_item(user, &item("b@example.test", &[]))
        .await
        .unwrap();
    let delta = s.roster_changes_since(user, Some(v4)).await.unwrap();
    assert_eq!(
        delta,
        RosterDelta::Changes {
            version: v5,
            changes: vec![RosterChange::Updated(item("b@example.test", &[]))],
        }
    );

    // No version, or one never handed out: full roster.
    for since in [None, Some(RosterVersion(v5.0 + 100))] {
        let RosterDelta::Full(roster) = s.roster_changes_since(user, since).await.unwrap() else {
            panic!("{since:?} must yield the full roster");
        };
        assert_eq!(roster.version, v5);
        assert_eq!(
            roster.items,
            [changed_a.clone(), item("b@example.test", &[])]
        );
    }

    // A failed removal does not move the version.
    assert!(
        s.remove_roster_item(user, "nobody@example.test")
            .await
            .is_err()
    );
    assert_eq!(s.roster_version(user).await.unwrap(), v5);
}

pub async fn roster_pending_in(ctx: &Ctx) {
    let s = &ctx.storage;
    let user = new_account(ctx, "popular").await;
    s.set_pending_in(user, "z@example.test", "<presence type='subscribe'/>")
        .await
        .unwrap();
    s.set_pending_in(user, "y@example.test", "<presence/>")
        .await
        .unwrap();
    s.set_pending_in(
        user,
        "y@example.test",
        "<presence type='subscribe' id='2'/>",
    )
    .await
    .unwrap();
    assert_eq!(
        s.pending_in(user).await.unwrap(),
        [
            PendingIn {
                contact: "y@example.test".into(),
                stanza: "<presence type='subscribe' id='2'/>".into(),
            },
            PendingIn {
                contact: "z@example.test".into(),
                stanza: "<presence type='subscribe'/>".into(),
            },
        ]
    );
    // Pending requests are not roster items and do not change the roster version.
    let roster = s.roster(user).await.unwrap();
    assert!(roster.items.is_empty());
    assert_eq!(roster.version, RosterVersion(0));

    assert!(s.remove_pending_in(user, "y@example.test").await.unwrap());
    assert!(!s.remove_pending_in(user, "y@example.test").await.unwrap());
    assert_eq!(s.pending_in(user).await.unwrap().len(), 1);

    let err = s
        .set_pending_in(User::new("ghost", DOMAIN), "z@example.test", "<presence/>")
        .await
        .unwrap_err();
    assert!(
        matches!(err, StorageError::NotFound { what: "account" }),
        "{err:?}"
    );
}
