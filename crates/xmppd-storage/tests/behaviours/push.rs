//! XEP-0357 push registrations: enable (replacing the form), the per-account limit, disable by
//! node or by jid, and removal with the account.

use xmppd_storage::{Accounts, PushEnabled, PushRegistration, Pushes, StorageError, User};

use super::{DOMAIN, new_account};
use crate::support::Ctx;

fn reg(jid: &str, node: &str, form: Option<&str>) -> PushRegistration {
    PushRegistration {
        jid: jid.into(),
        node: node.into(),
        form: form.map(Into::into),
    }
}

pub async fn push_enable_limit_disable(ctx: &Ctx) {
    let s = &ctx.storage;
    let user = new_account(ctx, "pushy").await;
    let other = new_account(ctx, "other").await;
    assert!(s.push_registrations(user).await.unwrap().is_empty());
    let a = reg("push.example", "n1", None);
    assert_eq!(
        s.enable_push(user, &a, 2).await.unwrap(),
        PushEnabled::Stored
    );
    // The same jid and node replaces the form instead of adding a registration.
    let a2 = reg(
        "push.example",
        "n1",
        Some("<x xmlns='jabber:x:data' type='submit'/>"),
    );
    assert_eq!(
        s.enable_push(user, &a2, 2).await.unwrap(),
        PushEnabled::Stored
    );
    let b = reg("push.example", "n2", None);
    assert_eq!(
        s.enable_push(user, &b, 2).await.unwrap(),
        PushEnabled::Stored
    );
    let c = reg("other.example", "n3", None);
    assert_eq!(
        s.enable_push(user, &c, 2).await.unwrap(),
        PushEnabled::LimitReached
    );
    // Re-enabling an existing one at the limit still works; other accounts are not counted.
    assert_eq!(
        s.enable_push(user, &a2, 2).await.unwrap(),
        PushEnabled::Stored
    );
    assert_eq!(
        s.enable_push(other, &c, 2).await.unwrap(),
        PushEnabled::Stored
    );
    assert_eq!(
        s.push_registrations(user).await.unwrap(),
        vec![a2.clone(), b]
    );

    assert_eq!(
        s.disable_push(user, "push.example", Some("n2"))
            .await
            .unwrap(),
        1
    );
    assert_eq!(s.push_registrations(user).await.unwrap(), vec![a2]);
    assert_eq!(
        s.enable_push(user, &c, 2).await.unwrap(),
        PushEnabled::Stored
    );
    assert_eq!(s.disable_push(user, "push.example", None).await.unwrap(), 1);
    assert_eq!(s.push_registrations(user).await.unwrap(), vec![c.clone()]);

    let missing = User::new("nobody", DOMAIN);
    assert!(matches!(
        s.enable_push(missing, &c, 2).await,
        Err(StorageError::NotFound { .. })
    ));
    s.delete_account(user).await.unwrap();
    assert!(s.push_registrations(user).await.unwrap().is_empty());
    assert_eq!(s.push_registrations(other).await.unwrap(), vec![c]);
}
