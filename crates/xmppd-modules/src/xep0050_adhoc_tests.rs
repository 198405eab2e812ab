use super::*;

fn el(xml: &str) -> Element {
    xml.parse().unwrap()
}

#[test]
fn parses_an_execute_request() {
    let cmd = parse(el("<command xmlns='http://jabber.org/protocol/commands' \
         node='http://jabber.org/protocol/admin#add-user' action='execute'/>"))
    .unwrap();
    assert_eq!(cmd.node, "http://jabber.org/protocol/admin#add-user");
    assert_eq!(cmd.requested(), Action::Execute);
    assert_eq!(cmd.sessionid, None);
}

#[test]
fn no_action_means_execute() {
    let cmd = parse(el(
        "<command xmlns='http://jabber.org/protocol/commands' node='n' sessionid='s'/>",
    ))
    .unwrap();
    assert_eq!(cmd.requested(), Action::Execute);
    assert_eq!(cmd.sessionid.as_deref(), Some("s"));
}

#[test]
fn unknown_action_is_malformed() {
    let err = parse(el(
        "<command xmlns='http://jabber.org/protocol/commands' node='n' action='jump'/>",
    ))
    .unwrap_err();
    assert!(matches!(err, AdhocError::Malformed(_)), "{err:?}");
    assert_eq!(
        err.condition(),
        (ErrorType::Modify, DefinedCondition::BadRequest)
    );
    assert!(err.specific().unwrap().is("malformed-action", NS));
}

#[test]
fn executing_response_serialises_with_actions_and_form() {
    let form = DataForm::new(
        xmpp_parsers::data_forms::DataFormType::Form,
        "urn:x",
        vec![],
    );
    let xml = String::from(&Element::from(Command::executing("n", "s1", form)));
    assert!(xml.starts_with("<command xmlns='http://jabber.org/protocol/commands' node='n' sessionid='s1' status='executing'>"), "{xml}");
    assert!(
        xml.contains("<actions execute='complete'><complete/></actions>"),
        "{xml}"
    );
    assert!(
        xml.contains("<x xmlns='jabber:x:data' type='form'>"),
        "{xml}"
    );
}

#[test]
fn completed_response_round_trips_with_its_note() {
    let done = Command::completed("n", Some("s1"), Some(Note::info("User created")), None);
    let back = Command::try_from(Element::from(done.clone())).unwrap();
    assert_eq!(back, done);
    assert_eq!(back.status, Some(Status::Completed));
    assert_eq!(back.notes[0].text, "User created");
}

#[test]
fn items_list_each_command_on_the_service() {
    let service = Jid::new("example.test").unwrap();
    let items = items(
        &service,
        &[CommandInfo {
            node: "a#b",
            name: "B",
        }],
    );
    assert_eq!(items.node.as_deref(), Some(NS));
    assert_eq!(items.items[0].node.as_deref(), Some("a#b"));
    assert_eq!(items.items[0].jid, service);
}

#[test]
fn sessions_belong_to_their_owner_and_node() {
    let now = Instant::now();
    let mut sessions = Sessions::new(10, 2, Duration::from_secs(60));
    sessions.start("1".into(), "a@x/r", "n", 7, now).unwrap();
    assert_eq!(
        sessions.finish("1", "b@x/r", "n", now),
        Err(AdhocError::BadSession)
    );
    assert_eq!(
        sessions.finish("1", "a@x/r", "other", now),
        Err(AdhocError::BadSession)
    );
    assert_eq!(sessions.finish("1", "a@x/r", "n", now), Ok(7));
    // Finished sessions are gone.
    assert_eq!(
        sessions.finish("1", "a@x/r", "n", now),
        Err(AdhocError::BadSession)
    );
}

#[test]
fn sessions_are_bounded_per_owner_and_in_total() {
    let now = Instant::now();
    let mut sessions = Sessions::new(3, 2, Duration::from_secs(60));
    sessions.start("1".into(), "a@x/r", "n", (), now).unwrap();
    sessions.start("2".into(), "a@x/r", "n", (), now).unwrap();
    assert_eq!(
        sessions.start("3".into(), "a@x/r", "n", (), now),
        Err(AdhocError::TooManySessions)
    );
    sessions.start("3".into(), "b@x/r", "n", (), now).unwrap();
    assert_eq!(
        sessions.start("4".into(), "c@x/r", "n", (), now),
        Err(AdhocError::TooManySessions)
    );
    assert_eq!(sessions.len(), 3);
}

#[test]
fn sessions_expire() {
    let now = Instant::now();
    let mut sessions = Sessions::new(1, 1, Duration::from_secs(60));
    sessions.start("1".into(), "a@x/r", "n", (), now).unwrap();
    let later = now + Duration::from_secs(61);
    assert_eq!(
        sessions.finish("1", "a@x/r", "n", later),
        Err(AdhocError::BadSession)
    );
    // Expiry also frees room for new sessions.
    sessions.start("2".into(), "a@x/r", "n", (), later).unwrap();
}
