//! Single-record stores (XEP-0049 private XML, XEP-0054 vCard, XEP-0012 last activity) and
//! migrations on reopen.

use std::time::{Duration, UNIX_EPOCH};

use xmppd_storage::{
    Accounts, LastActivity, LastLogout, PrivateXml, RosterItem, Rosters, StorageError, User, VCards,
};

use super::{DOMAIN, new_account};
use crate::support::Ctx;

pub async fn private_xml_round_trip(ctx: &Ctx) {
    let s = &ctx.storage;
    let user = new_account(ctx, "private").await;
    let ns = "storage:bookmarks";
    assert_eq!(s.private_xml(user, ns).await.unwrap(), None);
    s.set_private_xml(user, ns, "<storage xmlns='storage:bookmarks'/>")
        .await
        .unwrap();
    s.set_private_xml(
        user,
        "storage:rosternotes",
        "<storage xmlns='storage:rosternotes'/>",
    )
    .await
    .unwrap();
    let replaced = "<storage xmlns='storage:bookmarks'><conference jid='r@muc.test'/></storage>";
    s.set_private_xml(user, ns, replaced).await.unwrap();
    assert_eq!(
        s.private_xml(user, ns).await.unwrap().as_deref(),
        Some(replaced)
    );
    assert_eq!(
        s.private_xml(user, "storage:rosternotes")
            .await
            .unwrap()
            .as_deref(),
        Some("<storage xmlns='storage:rosternotes'/>")
    );
    let err = s
        .set_private_xml(User::new("ghost", DOMAIN), ns, "<x/>")
        .await
        .unwrap_err();
    assert!(
        matches!(err, StorageError::NotFound { what: "account" }),
        "{err:?}"
    );
}

pub async fn vcard_round_trip(ctx: &Ctx) {
    let s = &ctx.storage;
    let user = new_account(ctx, "carded").await;
    assert_eq!(s.vcard(user).await.unwrap(), None);
    s.set_vcard(user, "<vCard xmlns='vcard-temp'><FN>A</FN></vCard>")
        .await
        .unwrap();
    let unicode = "<vCard xmlns='vcard-temp'><FN>Ünïcödé 🦀</FN></vCard>";
    s.set_vcard(user, unicode).await.unwrap();
    assert_eq!(s.vcard(user).await.unwrap().as_deref(), Some(unicode));
    let err = s
        .set_vcard(User::new("ghost", DOMAIN), unicode)
        .await
        .unwrap_err();
    assert!(
        matches!(err, StorageError::NotFound { what: "account" }),
        "{err:?}"
    );
}

pub async fn last_activity_round_trip(ctx: &Ctx) {
    let s = &ctx.storage;
    let user = new_account(ctx, "lastly").await;
    assert_eq!(s.last_activity(user).await.unwrap(), None);
    let first = LastLogout {
        at: UNIX_EPOCH + Duration::from_millis(1_700_000_000_000),
        status: String::new(),
    };
    s.set_last_activity(user, &first).await.unwrap();
    assert_eq!(s.last_activity(user).await.unwrap(), Some(first));
    let second = LastLogout {
        at: UNIX_EPOCH + Duration::from_millis(1_800_000_000_123),
        status: "Gone fishing".into(),
    };
    s.set_last_activity(user, &second).await.unwrap();
    assert_eq!(s.last_activity(user).await.unwrap(), Some(second.clone()));
    let err = s
        .set_last_activity(User::new("ghost", DOMAIN), &second)
        .await
        .unwrap_err();
    assert!(
        matches!(err, StorageError::NotFound { what: "account" }),
        "{err:?}"
    );
}

pub async fn migrations_idempotent_on_reopen(ctx: &Ctx) {
    let user = new_account(ctx, "durable").await;
    let item = RosterItem {
        jid: "friend@example.test".into(),
        ..RosterItem::default()
    };
    ctx.storage.upsert_roster_item(user, &item).await.unwrap();
    let applied = ctx.applied_migrations().await;
    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"))
        .expect("migrations folder")
        .count();
    assert_eq!(applied, i64::try_from(migrations).unwrap());

    for _ in 0..2 {
        let reopened = ctx.reopen().await;
        assert!(reopened.account_exists(user).await.unwrap());
        assert_eq!(
            reopened.roster(user).await.unwrap().items,
            std::slice::from_ref(&item)
        );
        reopened.close().await;
    }
    assert_eq!(
        ctx.applied_migrations().await,
        applied,
        "reopen applied migrations again"
    );
}
