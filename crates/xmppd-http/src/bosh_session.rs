//! One XEP-0124 session's state: the request ids it expects, the elements waiting for a
//! response, the requests it holds open, and the client session core behind it (XEP-0206).

use crate::bridge;
use minidom::Element;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream, ReadHalf, WriteHalf};
use tokio::sync::Notify;
use tokio::time::Instant;
use xmppd_stream::framed::{self, Frame, ServerFrames};
use xmppd_stream::ns;

/// Elements queued for a client that does not poll before the session core is made to wait
/// (it then holds back in its own bounded outbox), so memory per session stays bounded.
const MAX_QUEUED: usize = 1024;

/// What the negotiated parameters of a session are (XEP-0124 §7.1).
#[derive(Debug, Clone, Copy)]
pub struct Params {
    pub wait: Duration,
    pub hold: usize,
    pub inactivity: Duration,
}

impl Params {
    /// XEP-0124 `requests`: one more than `hold`, so the client can always send.
    pub fn requests(&self) -> u64 {
        self.hold as u64 + 1
    }
}

/// Where a request's rid stands (XEP-0124 §14).
pub enum RidCheck {
    /// The one expected next; it was taken.
    Next,
    /// Already answered: the cached response, for a client that lost it.
    Repeat(Vec<u8>),
    /// Ahead of the expected one but inside the window: wait for the ones before it.
    Ahead,
    /// Outside the window, or answered too long ago to repeat: the session ends.
    Invalid,
}

#[derive(Default)]
struct State {
    next_rid: u64,
    /// Elements for the client, in order.
    queue: Vec<Element>,
    /// The server ended the stream; `true` if with a stream error.
    ended: Option<bool>,
    /// The stream id, for the creation response's `authid`.
    authid: Option<String>,
    /// Tickets of the requests being held, oldest first.
    held: VecDeque<u64>,
    next_ticket: u64,
    last_active: Option<Instant>,
    /// The latest responses by rid, for retransmission.
    replies: VecDeque<(u64, Vec<u8>)>,
}

/// What a held request gets to send back.
pub struct Batch {
    pub elements: Vec<Element>,
    /// `Some(error?)` once the stream is over.
    pub ended: Option<bool>,
    pub authid: Option<String>,
}

/// One BOSH session.
pub struct Session {
    pub sid: String,
    pub host: String,
    pub params: Params,
    to_server: tokio::sync::Mutex<WriteHalf<DuplexStream>>,
    state: Mutex<State>,
    /// Something changed: elements queued, stream ended, rid advanced, a request arrived.
    changed: Notify,
}

impl Session {
    /// A session whose first request had `rid`, over a started session core.
    pub fn start(
        sid: String,
        host: String,
        params: Params,
        rid: u64,
        pipe: DuplexStream,
    ) -> Arc<Self> {
        let (from_server, to_server) = tokio::io::split(pipe);
        let session = Arc::new(Self {
            sid,
            host,
            params,
            to_server: tokio::sync::Mutex::new(to_server),
            state: Mutex::new(State {
                next_rid: rid.wrapping_add(1),
                last_active: Some(Instant::now()),
                ..State::default()
            }),
            changed: Notify::new(),
        });
        tokio::spawn(session.clone().read_server(from_server));
        session
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data behind; keep going with it.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Queues what the session core writes, until it ends.
    async fn read_server(self: Arc<Self>, mut from_server: ReadHalf<DuplexStream>) {
        let mut frames = ServerFrames::new(bridge::SERVER_LIMITS);
        let mut buf = vec![0u8; 16 * 1024];
        let mut error = false;
        loop {
            self.room_in_queue().await;
            let n = match from_server.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let Ok(out) = frames.feed(&buf[..n]) else {
                break;
            };
            let mut state = self.state();
            for frame in out {
                match frame {
                    Frame::Open(header) => {
                        state
                            .authid
                            .get_or_insert_with(|| header.id.unwrap_or_default());
                    }
                    Frame::Element(el) => {
                        error |= el.is("error", ns::STREAM);
                        state.queue.push(el);
                    }
                    Frame::Close => state.ended = Some(error),
                }
            }
            drop(state);
            self.changed.notify_waiters();
        }
        self.state().ended.get_or_insert(error);
        self.changed.notify_waiters();
    }

    async fn room_in_queue(&self) {
        loop {
            let notified = self.changed.notified();
            if self.state().queue.len() < MAX_QUEUED {
                return;
            }
            notified.await;
        }
    }

    /// Checks `rid` and takes it when it is the next one.
    pub fn check_rid(&self, rid: u64) -> RidCheck {
        let mut state = self.state();
        if rid == state.next_rid {
            state.next_rid = rid.wrapping_add(1);
            drop(state);
            self.changed.notify_waiters();
            return RidCheck::Next;
        }
        if rid < state.next_rid {
            return match state.replies.iter().find(|(r, _)| *r == rid) {
                Some((_, reply)) => RidCheck::Repeat(reply.clone()),
                None => RidCheck::Invalid,
            };
        }
        if rid - state.next_rid < self.params.requests() {
            RidCheck::Ahead
        } else {
            RidCheck::Invalid
        }
    }

    /// Waits (up to `wait`) until `rid` is the next one, then takes it.
    pub async fn wait_for_turn(&self, rid: u64) -> RidCheck {
        let deadline = Instant::now() + self.params.wait;
        loop {
            let notified = self.changed.notified();
            match self.check_rid(rid) {
                RidCheck::Ahead => {}
                other => return other,
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return RidCheck::Invalid;
            }
        }
    }

    /// Hands a frame to the session core.
    pub async fn send(&self, frame: &Frame) -> bool {
        let Ok(bytes) = framed::to_stream(frame) else {
            return false;
        };
        self.to_server.lock().await.write_all(&bytes).await.is_ok()
    }

    /// Ends the session core's input, as a closed socket would.
    pub async fn shut_down(&self) {
        let _ = self.to_server.lock().await.shutdown().await;
    }

    /// Holds the request until there is something to send, the stream ended, `wait` passed,
    /// or a newer request needs its place (XEP-0124 §10: at most `hold` are held).
    pub async fn collect(&self) -> Batch {
        let ticket = {
            let mut state = self.state();
            let ticket = state.next_ticket;
            state.next_ticket += 1;
            state.held.push_back(ticket);
            ticket
        };
        self.changed.notify_waiters();
        let deadline = Instant::now() + self.params.wait;
        loop {
            let notified = self.changed.notified();
            {
                let mut state = self.state();
                let crowded =
                    state.held.len() > self.params.hold && state.held.front() == Some(&ticket);
                if !state.queue.is_empty() || state.ended.is_some() || crowded {
                    let batch = self.release(&mut state, ticket);
                    drop(state);
                    // The queue has room again for the reader.
                    self.changed.notify_waiters();
                    return batch;
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                let batch = self.release(&mut self.state(), ticket);
                self.changed.notify_waiters();
                return batch;
            }
        }
    }

    fn release(&self, state: &mut State, ticket: u64) -> Batch {
        state.held.retain(|t| *t != ticket);
        state.last_active = Some(Instant::now());
        Batch {
            elements: std::mem::take(&mut state.queue),
            ended: state.ended,
            authid: state.authid.clone(),
        }
    }

    /// Remembers the response to `rid` for retransmission (XEP-0124 §14.3).
    pub fn remember(&self, rid: u64, reply: &[u8]) {
        let mut state = self.state();
        state.replies.push_back((rid, reply.to_vec()));
        while state.replies.len() as u64 > self.params.requests() {
            state.replies.pop_front();
        }
    }

    /// When the session counts as abandoned: no request held, and none for `inactivity`.
    pub fn idle_deadline(&self) -> Option<Instant> {
        let state = self.state();
        if !state.held.is_empty() {
            return None;
        }
        state.last_active.map(|t| t + self.params.inactivity)
    }

    /// Marks activity (a request arrived).
    pub fn touch(&self) {
        self.state().last_active = Some(Instant::now());
    }
}

#[cfg(test)]
#[path = "bosh_session_tests.rs"]
mod tests;
