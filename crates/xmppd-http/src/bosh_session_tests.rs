//! BOSH session bookkeeping against a fake session core on the pipe's other end.

use super::*;

const PARAMS: Params = Params {
    wait: Duration::from_millis(300),
    hold: 1,
    inactivity: Duration::from_secs(5),
};

fn session() -> (Arc<Session>, DuplexStream) {
    let (ours, core) = tokio::io::duplex(4096);
    (
        Session::start("sid".into(), "example.com".into(), PARAMS, 10, ours),
        core,
    )
}

#[tokio::test]
async fn rids_in_order_repeat_and_window() {
    let (s, _core) = session();
    assert!(matches!(s.check_rid(11), RidCheck::Next));
    s.remember(11, b"answer-11");
    assert!(matches!(s.check_rid(11), RidCheck::Repeat(r) if r == b"answer-11"));
    // requests = 2: the next two are inside the window, further is not.
    assert!(matches!(s.check_rid(13), RidCheck::Ahead));
    assert!(matches!(s.check_rid(14), RidCheck::Invalid));
    // Forgotten answers cannot be repeated.
    assert!(matches!(s.check_rid(5), RidCheck::Invalid));
    // A request ahead is taken once the one before it arrived.
    let waiter = tokio::spawn({
        let s = s.clone();
        async move { matches!(s.wait_for_turn(13).await, RidCheck::Next) }
    });
    assert!(matches!(s.check_rid(12), RidCheck::Next));
    assert!(waiter.await.unwrap());
}

#[tokio::test]
async fn a_held_request_gets_what_the_core_writes() {
    let (s, mut core) = session();
    let held = tokio::spawn({
        let s = s.clone();
        async move { s.collect().await }
    });
    core.write_all(b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='abc' version='1.0'><message><body>hi</body></message>")
        .await
        .unwrap();
    let batch = held.await.unwrap();
    assert_eq!(batch.authid.as_deref(), Some("abc"));
    assert_eq!(batch.elements.len(), 1);
    assert!(batch.elements[0].is("message", "jabber:client"));
    assert_eq!(batch.ended, None);
    // The stream ending ends the session, with the error flagged.
    core.write_all(b"<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>")
        .await
        .unwrap();
    let batch = s.collect().await;
    assert_eq!(batch.ended, Some(true));
    assert!(batch.elements[0].is("error", ns::STREAM));
}

#[tokio::test]
async fn nothing_to_send_answers_empty_after_wait_and_a_newer_request_frees_the_held_one() {
    let (s, _core) = session();
    let started = Instant::now();
    let batch = s.collect().await;
    assert!(batch.elements.is_empty() && batch.ended.is_none());
    assert!(started.elapsed() >= PARAMS.wait);
    // hold = 1: a second request makes the first one answer at once.
    let first = tokio::spawn({
        let s = s.clone();
        async move {
            let started = Instant::now();
            s.collect().await;
            started.elapsed()
        }
    });
    // Wait until the first request is really held before sending the second.
    let deadline = Instant::now() + Duration::from_secs(5);
    while s.idle_deadline().is_some() && Instant::now() < deadline {
        tokio::task::yield_now().await;
    }
    assert_eq!(s.idle_deadline(), None, "a held request means not idle");
    let second = tokio::spawn({
        let s = s.clone();
        async move { s.collect().await }
    });
    assert!(first.await.unwrap() < PARAMS.wait);
    second.await.unwrap();
    // Idle again: the inactivity clock runs from the last answer.
    let idle = s.idle_deadline().unwrap();
    assert!(idle > Instant::now() + PARAMS.inactivity - Duration::from_secs(1));
}
