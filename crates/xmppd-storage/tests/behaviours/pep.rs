//! XEP-0163 PEP nodes and items.

use xmppd_storage::{Accounts, PepItem, PepNodeConfig, PepStore, StorageError, User};

use super::{DOMAIN, new_account};
use crate::support::Ctx;

fn config(max_items: u32) -> PepNodeConfig {
    PepNodeConfig {
        access_model: "presence".into(),
        max_items,
        persist_items: true,
        send_last: "on_sub_and_presence".into(),
    }
}

fn item(id: &str) -> PepItem {
    PepItem {
        id: id.into(),
        xml: format!("<x xmlns='urn:test' v='{id}'/>"),
    }
}

pub async fn pep_nodes_and_items(ctx: &Ctx) {
    let s = &ctx.storage;
    let user = new_account(ctx, "pepper").await;
    assert_eq!(s.pep_node(user, "urn:n").await.unwrap(), None);
    let err = s
        .publish_pep_item(user, "urn:n", &item("a"), 10)
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::NotFound { .. }), "{err:?}");
    s.set_pep_node(user, "urn:n", &config(10)).await.unwrap();
    let mut open = config(5);
    open.access_model = "open".into();
    s.set_pep_node(user, "urn:n", &open).await.unwrap();
    assert_eq!(s.pep_node(user, "urn:n").await.unwrap(), Some(open.clone()));
    s.set_pep_node(user, "urn:b", &config(1)).await.unwrap();
    let names: Vec<String> = s
        .pep_nodes(user)
        .await
        .unwrap()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names, ["urn:b", "urn:n"]);
    for id in ["a", "b", "c"] {
        s.publish_pep_item(user, "urn:n", &item(id), 5)
            .await
            .unwrap();
    }
    // Republishing an id makes it the newest and replaces its payload.
    let mut again = item("a");
    again.xml = "<x xmlns='urn:test' v='new'/>".into();
    s.publish_pep_item(user, "urn:n", &again, 5).await.unwrap();
    let items = s.pep_items(user, "urn:n", 10, &[]).await.unwrap();
    let ids: Vec<&str> = items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["a", "c", "b"]);
    assert_eq!(items[0].xml, again.xml);
    let two = s.pep_items(user, "urn:n", 2, &[]).await.unwrap();
    assert_eq!(two.len(), 2);
    let by_id = s.pep_items(user, "urn:n", 1, &["b".into()]).await.unwrap();
    assert_eq!(by_id, vec![item("b")]);
    assert!(s.delete_pep_node(user, "urn:n").await.unwrap());
    assert!(!s.delete_pep_node(user, "urn:n").await.unwrap());
    assert!(
        s.pep_items(user, "urn:n", 10, &[])
            .await
            .unwrap()
            .is_empty()
    );
    s.delete_account(user).await.unwrap();
    assert!(s.pep_nodes(user).await.unwrap().is_empty());
    let ghost = s
        .set_pep_node(User::new("ghost", DOMAIN), "urn:n", &config(1))
        .await
        .unwrap_err();
    assert!(
        matches!(ghost, StorageError::NotFound { what: "account" }),
        "{ghost:?}"
    );
}

pub async fn pep_max_items_and_retract(ctx: &Ctx) {
    let s = &ctx.storage;
    let user = new_account(ctx, "bounded").await;
    s.set_pep_node(user, "urn:m", &config(2)).await.unwrap();
    for id in ["1", "2", "3", "4"] {
        s.publish_pep_item(user, "urn:m", &item(id), 2)
            .await
            .unwrap();
    }
    let ids: Vec<String> = s
        .pep_items(user, "urn:m", 100, &[])
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(ids, ["4", "3"]);
    assert!(s.retract_pep_item(user, "urn:m", "4").await.unwrap());
    assert!(!s.retract_pep_item(user, "urn:m", "1").await.unwrap());
    let ids: Vec<String> = s
        .pep_items(user, "urn:m", 100, &[])
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(ids, ["3"]);
}
