use super::*;

fn submit(fields: &[(&str, &[&str])]) -> DataForm {
    let fields = fields
        .iter()
        .map(|(var, values)| {
            let mut f = Field::new(var, FieldType::TextSingle);
            f.values = values.iter().map(|v| (*v).to_owned()).collect();
            f
        })
        .collect();
    DataForm::new(DataFormType::Submit, FORM_TYPE, fields)
}

#[test]
fn nodes_round_trip() {
    for command in AdminCommand::ALL {
        assert_eq!(AdminCommand::from_node(command.info().node), Some(command));
    }
    assert_eq!(
        AdminCommand::from_node("http://jabber.org/protocol/admin#shutdown"),
        None
    );
}

#[test]
fn add_user_form_and_request() {
    let form = AdminCommand::AddUser.form(None).unwrap();
    assert_eq!(form.form_type(), Some(FORM_TYPE));
    assert!(
        form.fields
            .iter()
            .any(|f| f.var.as_deref() == Some("accountjid") && f.required)
    );
    let req = request(
        AdminCommand::AddUser,
        Some(&submit(&[
            ("accountjid", &["new@example.test"]),
            ("password", &["pw-123456"]),
            ("password-verify", &["pw-123456"]),
        ])),
    )
    .unwrap();
    assert_eq!(
        req,
        Request::AddUser {
            jid: BareJid::new("new@example.test").unwrap(),
            password: "pw-123456".into()
        }
    );
}

#[test]
fn add_user_refuses_mismatched_passwords_and_domain_jids() {
    let err = request(
        AdminCommand::AddUser,
        Some(&submit(&[
            ("accountjid", &["new@example.test"]),
            ("password", &["a"]),
            ("password-verify", &["b"]),
        ])),
    )
    .unwrap_err();
    assert_eq!(
        err,
        AdhocError::BadPayload("the passwords do not match".into())
    );
    let err = request(
        AdminCommand::AddUser,
        Some(&submit(&[
            ("accountjid", &["example.test"]),
            ("password", &["a"]),
        ])),
    )
    .unwrap_err();
    assert!(
        matches!(err, AdhocError::BadPayload(ref m) if m.contains("names no account")),
        "{err:?}"
    );
}

#[test]
fn commands_with_forms_need_them() {
    assert!(matches!(
        request(AdminCommand::DeleteUser, None),
        Err(AdhocError::BadPayload(_))
    ));
    assert_eq!(
        request(AdminCommand::GetOnlineUsersNum, None),
        Ok(Request::OnlineUsersNum)
    );
    assert_eq!(
        request(AdminCommand::DeleteMotd, None),
        Ok(Request::DeleteMotd)
    );
}

#[test]
fn delete_user_takes_many_but_bounded() {
    let req = request(
        AdminCommand::DeleteUser,
        Some(&submit(&[("accountjids", &["a@x.test", "b@x.test/r"])])),
    )
    .unwrap();
    assert_eq!(
        req,
        Request::DeleteUsers(vec![
            BareJid::new("a@x.test").unwrap(),
            BareJid::new("b@x.test").unwrap()
        ])
    );
    let many: Vec<String> = (0..=MAX_JIDS).map(|i| format!("u{i}@x.test")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    assert!(
        request(
            AdminCommand::DeleteUser,
            Some(&submit(&[("accountjids", &many)]))
        )
        .is_err()
    );
}

#[test]
fn announcement_lines_join_and_size_is_limited() {
    let req = request(
        AdminCommand::Announce,
        Some(&submit(&[
            ("subject", &["Hi"]),
            ("announcement", &["line 1", "line 2"]),
        ])),
    )
    .unwrap();
    assert_eq!(
        req,
        Request::Announce {
            subject: Some("Hi".into()),
            body: "line 1\nline 2".into()
        }
    );
    let big = "x".repeat(MAX_TEXT_BYTES + 1);
    assert!(
        request(
            AdminCommand::SetMotd,
            Some(&submit(&[("announcement", &[&big])]))
        )
        .is_err()
    );
    assert!(
        request(
            AdminCommand::SetMotd,
            Some(&submit(&[("announcement", &[" "])]))
        )
        .is_err()
    );
}

#[test]
fn edit_motd_shows_the_current_text() {
    let form = AdminCommand::EditMotd.form(Some("one\ntwo")).unwrap();
    let body = form
        .fields
        .iter()
        .find(|f| f.var.as_deref() == Some("announcement"))
        .unwrap();
    assert_eq!(body.values, ["one", "two"]);
}

#[test]
fn online_users_are_capped() {
    let users: Vec<BareJid> = ["a@x.test", "b@x.test"]
        .iter()
        .map(|j| BareJid::new(j).unwrap())
        .collect();
    let form = online_users_form(&users, 1);
    assert_eq!(values(&form, "onlineuserjids"), ["a@x.test"]);
    assert_eq!(values(&online_count_form(2), "onlineusersnum"), ["2"]);
    let req = request(
        AdminCommand::GetOnlineUsers,
        Some(&submit(&[("max_items", &["1000"])])),
    )
    .unwrap();
    assert_eq!(req, Request::OnlineUsers { max: MAX_JIDS });
}

fn values(form: &DataForm, var: &str) -> Vec<String> {
    form.fields
        .iter()
        .find(|f| f.var.as_deref() == Some(var))
        .map(|f| f.values.clone())
        .unwrap_or_default()
}
