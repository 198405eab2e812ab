//! Message archives: batches, paging both ways, filters, pruning, preferences, removal.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use xmppd_storage::{
    Accounts, Archive, ArchiveFilter, ArchivePrefs, NewArchived, PageFrom, StorageError,
};

use super::new_account;
use crate::support::Ctx;

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

const OWNER: &str = "arch@example.test";

async fn fill(ctx: &Ctx) {
    let ids: Vec<String> = (0..6).map(|n| format!("id{n}")).collect();
    let bodies: Vec<Vec<u8>> = (0..6).map(|n| format!("<m{n}/>").into_bytes()).collect();
    let entries: Vec<NewArchived<'_>> = (0..6)
        .map(|n| NewArchived {
            owner: OWNER,
            stanza_id: &ids[n],
            with: if n % 2 == 0 {
                "even@example.test"
            } else {
                "odd@example.test"
            },
            stored_at: at(1000 + n as u64),
            stanza: &bodies[n],
        })
        .collect();
    ctx.storage.archive_messages(&entries).await.unwrap();
    // Another owner's entries never show up.
    let other = NewArchived {
        owner: "other@example.test",
        stanza_id: "id0",
        with: "even@example.test",
        stored_at: at(1000),
        stanza: b"<x/>",
    };
    ctx.storage.archive_messages(&[other]).await.unwrap();
}

fn ids(page: &xmppd_storage::ArchivePage) -> Vec<&str> {
    page.items.iter().map(|i| i.stanza_id.as_str()).collect()
}

pub async fn archive_paging_and_filters(ctx: &Ctx) {
    fill(ctx).await;
    let s = &ctx.storage;
    let page = |page: PageFrom, max: u32| ArchiveFilter {
        page,
        max,
        ..ArchiveFilter::default()
    };
    let first = s
        .archive_page(OWNER, &page(PageFrom::Oldest, 4))
        .await
        .unwrap();
    assert_eq!(ids(&first), ["id0", "id1", "id2", "id3"]);
    assert!(!first.complete);
    assert_eq!(first.count, 6, "the count covers every page");
    assert_eq!(first.items[1].stanza, b"<m1/>");
    assert_eq!(first.items[1].with, "odd@example.test");
    assert_eq!(first.items[1].stored_at, at(1001));
    let next = s
        .archive_page(OWNER, &page(PageFrom::After("id3".into()), 4))
        .await
        .unwrap();
    assert_eq!(ids(&next), ["id4", "id5"]);
    assert!(next.complete);
    assert_eq!(next.count, 6);
    let last = s
        .archive_page(OWNER, &page(PageFrom::Newest, 4))
        .await
        .unwrap();
    assert_eq!(ids(&last), ["id2", "id3", "id4", "id5"]);
    assert!(!last.complete);
    let before = s
        .archive_page(OWNER, &page(PageFrom::Before("id2".into()), 4))
        .await
        .unwrap();
    assert_eq!(ids(&before), ["id0", "id1"]);
    assert!(before.complete);
    let unknown = s
        .archive_page(OWNER, &page(PageFrom::After("nope".into()), 4))
        .await;
    assert!(matches!(unknown, Err(StorageError::NotFound { .. })));

    let with = ArchiveFilter {
        with: Some("even@example.test".into()),
        max: 10,
        ..ArchiveFilter::default()
    };
    let with_page = s.archive_page(OWNER, &with).await.unwrap();
    assert_eq!(ids(&with_page), ["id0", "id2", "id4"]);
    assert_eq!(with_page.count, 3, "the count follows the filter");
    let window = ArchiveFilter {
        start: Some(at(1002)),
        end: Some(at(1004)),
        max: 10,
        ..ArchiveFilter::default()
    };
    assert_eq!(
        ids(&s.archive_page(OWNER, &window).await.unwrap()),
        ["id2", "id3", "id4"]
    );

    assert_eq!(s.prune_archive(at(1003)).await.unwrap(), 4);
    let rest = s
        .archive_page(OWNER, &page(PageFrom::Oldest, 10))
        .await
        .unwrap();
    assert_eq!(ids(&rest), ["id3", "id4", "id5"]);
    assert!(rest.complete);
}

pub async fn archive_prefs_and_account_removal(ctx: &Ctx) {
    let s = &ctx.storage;
    let user = new_account(ctx, "arch").await;
    fill(ctx).await;
    assert_eq!(s.archive_prefs(OWNER).await.unwrap(), None);
    let prefs = ArchivePrefs {
        default_mode: "roster".into(),
        always: vec!["a@example.test".into(), "b@example.test".into()],
        never: vec![],
    };
    s.set_archive_prefs(OWNER, &prefs).await.unwrap();
    assert_eq!(s.archive_prefs(OWNER).await.unwrap(), Some(prefs.clone()));
    let changed = ArchivePrefs {
        default_mode: "never".into(),
        always: vec![],
        never: vec!["c@example.test".into()],
    };
    s.set_archive_prefs(OWNER, &changed).await.unwrap();
    assert_eq!(s.archive_prefs(OWNER).await.unwrap(), Some(changed));

    s.delete_account(user).await.unwrap();
    let all = ArchiveFilter {
        max: 10,
        ..ArchiveFilter::default()
    };
    assert!(s.archive_page(OWNER, &all).await.unwrap().items.is_empty());
    assert_eq!(s.archive_prefs(OWNER).await.unwrap(), None);
    let other = s.archive_page("other@example.test", &all).await.unwrap();
    assert_eq!(other.items.len(), 1);
}
