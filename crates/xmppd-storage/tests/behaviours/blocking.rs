//! Blocklists and privacy lists.

use xmppd_storage::{Accounts, Blocking, StorageError};

use super::new_account;
use crate::support::Ctx;

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

pub async fn blocklist_block_unblock(ctx: &Ctx) {
    let s = &ctx.storage;
    let user = new_account(ctx, "blocker").await;
    let other = new_account(ctx, "calm").await;
    assert!(s.blocklist(user).await.unwrap().is_empty());
    s.block(user, &strings(&["b@x.test", "a@x.test"]))
        .await
        .unwrap();
    s.block(user, &strings(&["a@x.test", "x.test"]))
        .await
        .unwrap();
    assert_eq!(
        s.blocklist(user).await.unwrap(),
        ["a@x.test", "b@x.test", "x.test"]
    );
    assert!(s.blocklist(other).await.unwrap().is_empty());
    s.unblock(user, &strings(&["b@x.test"])).await.unwrap();
    assert_eq!(s.blocklist(user).await.unwrap(), ["a@x.test", "x.test"]);
    s.block(other, &strings(&["z@x.test"])).await.unwrap();
    s.unblock(user, &[]).await.unwrap();
    assert!(s.blocklist(user).await.unwrap().is_empty());
    assert_eq!(s.blocklist(other).await.unwrap(), ["z@x.test"]);
    s.delete_account(other).await.unwrap();
    assert!(s.blocklist(other).await.unwrap().is_empty());
}

pub async fn privacy_lists_round_trip(ctx: &Ctx) {
    let s = &ctx.storage;
    let user = new_account(ctx, "private").await;
    s.set_privacy_list(user, "work", "<list name='work'/>")
        .await
        .unwrap();
    s.set_privacy_list(user, "home", "<list name='home'/>")
        .await
        .unwrap();
    s.set_default_privacy_list(user, Some("work"))
        .await
        .unwrap();
    let lists = s.privacy_lists(user).await.unwrap();
    assert_eq!(
        lists
            .iter()
            .map(|l| (l.name.as_str(), l.is_default))
            .collect::<Vec<_>>(),
        [("home", false), ("work", true)]
    );
    // Replacing a list keeps it the default.
    s.set_privacy_list(user, "work", "<list name='work'><item/></list>")
        .await
        .unwrap();
    let work = s.privacy_lists(user).await.unwrap().pop().unwrap();
    assert_eq!(work.xml, "<list name='work'><item/></list>");
    assert!(work.is_default);
    assert!(matches!(
        s.set_default_privacy_list(user, Some("nope")).await,
        Err(StorageError::NotFound { .. })
    ));
    assert!(
        s.privacy_lists(user)
            .await
            .unwrap()
            .iter()
            .any(|l| l.is_default)
    );
    s.set_default_privacy_list(user, None).await.unwrap();
    assert!(
        !s.privacy_lists(user)
            .await
            .unwrap()
            .iter()
            .any(|l| l.is_default)
    );
    assert!(s.remove_privacy_list(user, "home").await.unwrap());
    assert!(!s.remove_privacy_list(user, "home").await.unwrap());
    assert_eq!(s.privacy_lists(user).await.unwrap().len(), 1);
}
