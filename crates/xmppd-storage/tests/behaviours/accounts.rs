//! Accounts, deletion cascade and SCRAM credentials.

use std::time::{Duration, SystemTime};

use xmppd_storage::{
    Accounts, Archive, ArchivePrefs, Blocking, LastActivity, LastLogout, NewArchived, Offline,
    PepStore, PrivateXml, Pushes, RosterItem, Rosters, ScramHash, StorageError, StoredCredential,
    User, VCards,
};

use super::{DOMAIN, new_account};
use crate::support::{Ctx, scram_credential};

pub async fn account_create_duplicate_delete(ctx: &Ctx) {
    let s = &ctx.storage;
    let alice = User::new("alice", DOMAIN);
    assert!(!s.account_exists(alice).await.unwrap());
    s.create_account(alice, &[]).await.unwrap();
    assert!(s.account_exists(alice).await.unwrap());

    let err = s.create_account(alice, &[]).await.unwrap_err();
    assert!(
        matches!(err, StorageError::AlreadyExists { what: "account" }),
        "{err:?}"
    );

    s.create_account(User::new("bob", DOMAIN), &[])
        .await
        .unwrap();
    s.create_account(User::new("carol", "other.test"), &[])
        .await
        .unwrap();
    assert_eq!(s.list_accounts(DOMAIN).await.unwrap(), ["alice", "bob"]);
    assert_eq!(s.list_accounts("other.test").await.unwrap(), ["carol"]);
    // Same username on another domain is another account.
    assert!(
        !s.account_exists(User::new("alice", "other.test"))
            .await
            .unwrap()
    );

    s.delete_account(alice).await.unwrap();
    assert!(!s.account_exists(alice).await.unwrap());
    assert_eq!(s.list_accounts(DOMAIN).await.unwrap(), ["bob"]);
    let err = s.delete_account(alice).await.unwrap_err();
    assert!(
        matches!(err, StorageError::NotFound { what: "account" }),
        "{err:?}"
    );
}

/// Fills every area for `user` so each table holds at least one of its rows.
async fn fill_everything(ctx: &Ctx, user: User<'_>) {
    let s = &ctx.storage;
    for jid in ["keep@example.test", "gone@example.test"] {
        let item = RosterItem {
            jid: jid.into(),
            groups: vec!["Friends".into()],
            ..RosterItem::default()
        };
        s.upsert_roster_item(user, &item).await.unwrap();
    }
    s.remove_roster_item(user, "gone@example.test")
        .await
        .unwrap();
    s.set_pending_in(user, "asker@example.test", "<presence type='subscribe'/>")
        .await
        .unwrap();
    s.store_offline(user, "x@example.test", b"<message/>", SystemTime::now(), 10)
        .await
        .unwrap();
    s.set_private_xml(
        user,
        "storage:bookmarks",
        "<storage xmlns='storage:bookmarks'/>",
    )
    .await
    .unwrap();
    s.set_vcard(user, "<vCard xmlns='vcard-temp'/>")
        .await
        .unwrap();
    let node = xmppd_storage::PepNodeConfig {
        access_model: "presence".into(),
        max_items: 1,
        persist_items: true,
        send_last: "never".into(),
    };
    s.set_pep_node(user, "urn:xmpp:avatar:metadata", &node)
        .await
        .unwrap();
    let item = xmppd_storage::PepItem {
        id: "current".into(),
        xml: "<metadata xmlns='urn:xmpp:avatar:metadata'/>".into(),
    };
    s.publish_pep_item(user, "urn:xmpp:avatar:metadata", &item, 1)
        .await
        .unwrap();
    let last = LastLogout {
        at: SystemTime::now(),
        status: "bye".into(),
    };
    s.set_last_activity(user, &last).await.unwrap();
    xmppd_storage::Directory::set_listing(s, user, Some("listed"))
        .await
        .unwrap();
    let owner = format!("{}@{}", user.username, user.domain);
    let archived = NewArchived {
        owner: &owner,
        stanza_id: "a1",
        with: "x@example.test",
        stored_at: SystemTime::now(),
        stanza: b"<message/>",
    };
    s.archive_messages(&[archived]).await.unwrap();
    let prefs = ArchivePrefs {
        default_mode: "always".into(),
        always: vec![],
        never: vec![],
    };
    s.set_archive_prefs(&owner, &prefs).await.unwrap();
    s.block(user, &["spam@example.test".to_owned()])
        .await
        .unwrap();
    s.set_privacy_list(user, "l", "<list/>").await.unwrap();
    let push = xmppd_storage::PushRegistration {
        jid: "push.example".into(),
        node: "device".into(),
        form: None,
    };
    s.enable_push(user, &push, 5).await.unwrap();
}

pub async fn account_delete_cascades(ctx: &Ctx) {
    let doomed = new_account(ctx, "doomed").await;
    let kept = new_account(ctx, "kept").await;
    fill_everything(ctx, doomed).await;
    fill_everything(ctx, kept).await;

    let before = ctx.rows_of(doomed).await;
    let empty: Vec<_> = before.iter().filter(|(_, n)| *n == 0).collect();
    assert!(
        empty.is_empty(),
        "the fixture leaves tables empty: {empty:?}"
    );

    ctx.storage.delete_account(doomed).await.unwrap();
    let left: Vec<_> = ctx
        .rows_of(doomed)
        .await
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .collect();
    assert!(left.is_empty(), "rows survived account deletion: {left:?}");
    // The neighbour keeps everything.
    assert_eq!(ctx.rows_of(kept).await, before);
    // Re-creating the name starts from nothing.
    ctx.storage.create_account(doomed, &[]).await.unwrap();
    assert!(ctx.storage.roster(doomed).await.unwrap().items.is_empty());
    assert_eq!(ctx.storage.offline_count(doomed).await.unwrap(), 0);
    assert_eq!(ctx.storage.vcard(doomed).await.unwrap(), None);
}

pub async fn credentials_round_trip_all_hashes(ctx: &Ctx) {
    let s = &ctx.storage;
    let user = User::new("creds", DOMAIN);
    let old: Vec<StoredCredential> = ScramHash::ALL
        .into_iter()
        .map(|hash| scram_credential(hash, "old password", b"0123456789abcdef"))
        .collect();
    s.create_account(user, &old).await.unwrap();
    for credential in &old {
        assert_eq!(
            s.credential(user, credential.hash).await.unwrap().as_ref(),
            Some(credential)
        );
    }
    assert_eq!(s.credentials(user).await.unwrap(), old);

    // A password change replaces the whole set: the old SHA-1 verifier must not survive.
    let new = scram_credential(ScramHash::Sha256, "new password", b"fresh salt");
    s.set_credentials(user, std::slice::from_ref(&new))
        .await
        .unwrap();
    assert_eq!(
        s.credentials(user).await.unwrap(),
        std::slice::from_ref(&new)
    );
    assert_eq!(s.credential(user, ScramHash::Sha1).await.unwrap(), None);
    assert_ne!(Some(&new), old.get(1));

    let mut bad = new.clone();
    bad.stored_key.truncate(20);
    let err = s.set_credentials(user, &[bad]).await.unwrap_err();
    assert!(
        matches!(err, StorageError::InvalidCredential { .. }),
        "{err:?}"
    );
    assert_eq!(
        s.credentials(user).await.unwrap(),
        std::slice::from_ref(&new),
        "failed change kept"
    );

    let ghost = User::new("ghost", DOMAIN);
    let err = s.set_credentials(ghost, &[new]).await.unwrap_err();
    assert!(
        matches!(err, StorageError::NotFound { what: "account" }),
        "{err:?}"
    );
    assert_eq!(s.credentials(ghost).await.unwrap(), []);
}

pub async fn no_password_in_raw_storage(ctx: &Ctx) {
    let columns = ctx.columns().await;
    let suspicious: Vec<_> = columns
        .iter()
        .filter(|c| c.contains("pass") || c.contains("secret") || c.contains("plain"))
        .collect();
    assert!(
        suspicious.is_empty(),
        "columns that could hold a password: {suspicious:?}"
    );

    // Unique strings so neither can be found by accident elsewhere on disk.
    let nonce = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_nanos();
    let password = format!("Tr0ub4dor-{nonce}-horse");
    let username = format!("marker{nonce}");
    let user = User::new(&username, DOMAIN);
    let credentials: Vec<_> = ScramHash::ALL
        .into_iter()
        .map(|hash| scram_credential(hash, &password, b"salt-for-scan"))
        .collect();
    ctx.storage
        .create_account(user, &credentials)
        .await
        .unwrap();

    // Positive control: the scan does see what was written.
    assert!(
        ctx.raw_files_contain(username.as_bytes()),
        "scan cannot see stored data"
    );
    assert!(
        !ctx.raw_files_contain(password.as_bytes()),
        "password found in the database files"
    );
}
