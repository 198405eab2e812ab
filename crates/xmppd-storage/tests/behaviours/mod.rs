//! The storage behaviours, each written once as `async fn(&Ctx)` and run on every backend.

pub mod accounts;
pub mod archive;
pub mod blocking;
pub mod directory;
pub mod offline;
pub mod pep;
pub mod push;
pub mod records;
pub mod rooms;
pub mod roster;

use xmppd_storage::{Accounts, User};

use crate::support::{Ctx, scram_credential};

pub const DOMAIN: &str = "example.test";

pub async fn new_account(ctx: &Ctx, username: &str) -> User<'static> {
    let user = User::new(username.to_owned().leak(), DOMAIN);
    let credential = scram_credential(xmppd_storage::ScramHash::Sha256, "pw", b"salt");
    ctx.storage
        .create_account(user, &[credential])
        .await
        .expect("create account");
    user
}
