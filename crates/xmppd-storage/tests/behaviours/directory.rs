//! XEP-0055 user directory: listing, search, opting out, and removal with the account.

use xmppd_storage::{Accounts, Directory, Listing};

use super::{DOMAIN, new_account};
use crate::support::Ctx;

fn names(found: &[Listing]) -> Vec<&str> {
    found.iter().map(|l| l.username.as_str()).collect()
}

pub async fn directory_listing_search_and_cascade(ctx: &Ctx) {
    let s = &ctx.storage;
    let bob = new_account(ctx, "bob").await;
    let bobby = new_account(ctx, "bobby").await;
    let under = new_account(ctx, "un_der").await;
    s.set_listing(bob, Some("Bob Tables")).await.unwrap();
    s.set_listing(bobby, Some("B")).await.unwrap();
    s.set_listing(under, Some("x")).await.unwrap();
    assert_eq!(
        names(&s.search_directory(DOMAIN, "BOB", 10).await.unwrap()),
        ["bob", "bobby"]
    );
    assert_eq!(
        names(&s.search_directory(DOMAIN, "tables", 10).await.unwrap()),
        ["bob"]
    );
    assert_eq!(
        names(&s.search_directory(DOMAIN, "bob", 1).await.unwrap()),
        ["bob"]
    );
    // Wildcards are literal.
    assert_eq!(
        names(&s.search_directory(DOMAIN, "_", 10).await.unwrap()),
        ["un_der"]
    );
    assert!(
        s.search_directory(DOMAIN, "%", 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.search_directory("other.test", "bob", 10)
            .await
            .unwrap()
            .is_empty()
    );
    // Renaming replaces, opting out removes.
    s.set_listing(bob, Some("Robert")).await.unwrap();
    assert_eq!(
        s.search_directory(DOMAIN, "robert", 10).await.unwrap()[0].nickname,
        "Robert"
    );
    s.set_listing(bob, None).await.unwrap();
    assert_eq!(
        names(&s.search_directory(DOMAIN, "bob", 10).await.unwrap()),
        ["bobby"]
    );
    // Deleting the account removes its listing.
    s.delete_account(bobby).await.unwrap();
    assert!(
        s.search_directory(DOMAIN, "bob", 10)
            .await
            .unwrap()
            .is_empty()
    );
}
