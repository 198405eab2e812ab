//! Offline stanzas: store, fetch without loss, delete up to an id, per-user limit.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use xmppd_storage::{Offline, OfflineId, StorageError, User};

use super::{DOMAIN, new_account};
use crate::support::Ctx;

fn at(millis: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(millis)
}

pub async fn offline_store_fetch_delete(ctx: &Ctx) {
    let s = &ctx.storage;
    let user = new_account(ctx, "sleeper").await;
    let other = new_account(ctx, "awake").await;
    let mut ids = Vec::new();
    for n in 0..3u8 {
        let stanza = [b'<', b'm', n, b'>'];
        let from = format!("sender{n}@example.test");
        ids.push(
            s.store_offline(
                user,
                &from,
                &stanza,
                at(1_700_000_000_000 + u64::from(n)),
                10,
            )
            .await
            .unwrap(),
        );
    }
    s.store_offline(other, "x@example.test", b"<other/>", at(5), 10)
        .await
        .unwrap();
    assert!(ids[0] < ids[1] && ids[1] < ids[2]);
    assert_eq!(s.offline_count(user).await.unwrap(), 3);

    let all = s.fetch_offline(user, 10).await.unwrap();
    assert_eq!(all.iter().map(|m| m.id).collect::<Vec<_>>(), ids);
    assert_eq!(all[1].from, "sender1@example.test");
    assert_eq!(all[1].stanza, [b'<', b'm', 1, b'>']);
    assert_eq!(all[1].stored_at, at(1_700_000_000_001));

    // Fetching does not delete: an unacknowledged delivery loses nothing.
    let first_two = s.fetch_offline(user, 2).await.unwrap();
    assert_eq!(first_two, all[..2]);
    assert_eq!(s.offline_count(user).await.unwrap(), 3);

    assert_eq!(s.delete_offline_up_to(user, ids[1]).await.unwrap(), 2);
    assert_eq!(s.offline_count(user).await.unwrap(), 1);
    assert_eq!(s.fetch_offline(user, 10).await.unwrap(), all[2..]);
    assert_eq!(s.delete_offline_up_to(user, ids[1]).await.unwrap(), 0);
    // Another user's ids never delete ours, and ours never theirs.
    assert_eq!(
        s.delete_offline_up_to(other, OfflineId(i64::MAX))
            .await
            .unwrap(),
        1
    );
    assert_eq!(s.offline_count(user).await.unwrap(), 1);
}

pub async fn offline_limit(ctx: &Ctx) {
    let s = &ctx.storage;
    let user = new_account(ctx, "limited").await;
    let first = s
        .store_offline(user, "a@example.test", b"1", at(1), 2)
        .await
        .unwrap();
    s.store_offline(user, "a@example.test", b"2", at(2), 2)
        .await
        .unwrap();
    let err = s
        .store_offline(user, "a@example.test", b"3", at(3), 2)
        .await
        .unwrap_err();
    assert!(
        matches!(err, StorageError::OfflineFull { limit: 2 }),
        "{err:?}"
    );
    assert_eq!(s.offline_count(user).await.unwrap(), 2);

    s.delete_offline_up_to(user, first).await.unwrap();
    s.store_offline(user, "a@example.test", b"3", at(3), 2)
        .await
        .unwrap();
    let stanzas: Vec<_> = s
        .fetch_offline(user, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.stanza)
        .collect();
    assert_eq!(stanzas, [b"2".to_vec(), b"3".to_vec()]);

    let ghost = User::new("ghost", DOMAIN);
    let err = s
        .store_offline(ghost, "a@example.test", b"1", at(1), 2)
        .await
        .unwrap_err();
    assert!(
        matches!(err, StorageError::NotFound { what: "account" }),
        "{err:?}"
    );
    let err = s.offline_count(ghost).await.unwrap_err();
    assert!(
        matches!(err, StorageError::NotFound { what: "account" }),
        "{err:?}"
    );
}

/// Many tasks share clones of one `Storage`; the limit holds under concurrency.
pub async fn offline_limit_under_concurrency(ctx: &Ctx) {
    const LIMIT: u32 = 5;
    let user = new_account(ctx, "crowded").await;
    let tasks: Vec<_> = (0..20)
        .map(|n: u8| {
            let storage = ctx.storage.clone();
            tokio::spawn(async move {
                storage
                    .store_offline(user, "flood@example.test", &[n], at(1), LIMIT)
                    .await
            })
        })
        .collect();
    let mut stored = 0;
    for task in tasks {
        match task.await.expect("task") {
            Ok(_) => stored += 1,
            Err(StorageError::OfflineFull { .. }) => {}
            Err(e) => panic!("unexpected error: {e:?}"),
        }
    }
    assert_eq!(stored, LIMIT);
    assert_eq!(
        ctx.storage.offline_count(user).await.unwrap(),
        u64::from(LIMIT)
    );
    assert_eq!(ctx.storage.fetch_offline(user, 100).await.unwrap().len(), 5);
}
