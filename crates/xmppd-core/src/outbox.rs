//! A session's outbox: what the router queued for one session's writer, bounded.
//!
//! Not tokio's mpsc, for memory per idle session: a bounded tokio channel allocates its
//! first block of 32 slots (~1.5 KiB) and a cache-padded header (~0.5 KiB) when it is made,
//! and keeps them for its life. Here the queue allocates when something is queued and gives
//! its memory back once drained, so an idle session's outbox is one small allocation.
//! Nothing here is held across an await; the lock guards a few pointer moves.

use crate::router::Outgoing;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use tokio::sync::Notify;

/// A drained queue keeps at most this much capacity (a few stanzas' worth of pointers).
const KEEP_CAPACITY: usize = 4;

/// Makes an outbox holding at most `capacity` items.
#[must_use]
pub fn channel(capacity: usize) -> (Sender, Receiver) {
    let inner = Arc::new(Inner {
        state: Mutex::new(State {
            queue: VecDeque::new(),
            waker: None,
            senders: 1,
            waiting_senders: 0,
            closed: false,
        }),
        room: Notify::new(),
        capacity,
    });
    (
        Sender {
            inner: inner.clone(),
        },
        Receiver { inner },
    )
}

struct Inner {
    state: Mutex<State>,
    /// Wakes senders waiting for room (or to learn that the receiver is gone).
    room: Notify,
    capacity: usize,
}

struct State {
    queue: VecDeque<Outgoing>,
    /// The receiver's waker while it waits in [`Receiver::recv`].
    waker: Option<Waker>,
    senders: usize,
    /// Senders waiting in [`Sender::send`] for room.
    waiting_senders: usize,
    /// The receiver closed or went away: sending fails, what is queued may still be taken.
    closed: bool,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock; a poisoned one still holds a valid queue.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Why an item was not queued; the item comes back.
#[derive(Debug)]
pub enum TrySendError {
    /// The outbox holds `capacity` items already.
    Full(Outgoing),
    /// The receiver is gone.
    Closed(Outgoing),
}

/// The queueing end; cloned for the router.
pub struct Sender {
    inner: Arc<Inner>,
}

impl Sender {
    /// Queues `item` unless the outbox is full or closed.
    pub fn try_send(&self, item: Outgoing) -> Result<(), TrySendError> {
        let waker = {
            let mut state = self.inner.lock();
            if state.closed {
                return Err(TrySendError::Closed(item));
            }
            if state.queue.len() >= self.inner.capacity {
                return Err(TrySendError::Full(item));
            }
            state.queue.push_back(item);
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// Queues `item`, waiting for room. Fails (giving it back) once the receiver is gone.
    pub async fn send(&self, mut item: Outgoing) -> Result<(), Outgoing> {
        loop {
            // Registered before looking, so a pop between the look and the wait is not missed.
            let room = self.inner.room.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            let pushed = {
                let mut state = self.inner.lock();
                if state.closed {
                    return Err(item);
                }
                if state.queue.len() < self.inner.capacity {
                    state.queue.push_back(item);
                    Ok(state.waker.take())
                } else {
                    // Counted under the same lock as the look, so the next pop wakes us.
                    state.waiting_senders += 1;
                    Err(item)
                }
            };
            match pushed {
                Ok(waker) => {
                    if let Some(waker) = waker {
                        waker.wake();
                    }
                    return Ok(());
                }
                Err(back) => {
                    item = back;
                    let _waiting = Waiting(&self.inner);
                    room.await;
                }
            }
        }
    }
}

/// One sender waiting for room; uncounted when the wait ends or is cancelled.
struct Waiting<'a>(&'a Inner);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.lock().waiting_senders -= 1;
    }
}

impl Clone for Sender {
    fn clone(&self) -> Self {
        self.inner.lock().senders += 1;
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        let waker = {
            let mut state = self.inner.lock();
            state.senders -= 1;
            if state.senders == 0 {
                state.waker.take()
            } else {
                None
            }
        };
        // The last sender is gone: a waiting receiver learns that nothing more will come.
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("outbox::Sender").finish_non_exhaustive()
    }
}

/// The session writer's end.
pub struct Receiver {
    inner: Arc<Inner>,
}

impl Receiver {
    /// The next item, waiting for one; `None` once every sender is gone (or the outbox was
    /// closed) and the queue is empty. Cancel-safe: an item is taken only when returned.
    pub async fn recv(&mut self) -> Option<Outgoing> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Outgoing>> {
        let mut state = self.inner.lock();
        if let Some(item) = self.pop(&mut state) {
            return Poll::Ready(Some(item));
        }
        if state.senders == 0 || state.closed {
            return Poll::Ready(None);
        }
        match &mut state.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// The next item if one is queued.
    pub fn try_recv(&mut self) -> Option<Outgoing> {
        let mut state = self.inner.lock();
        self.pop(&mut state)
    }

    /// Refuses further items; those queued may still be taken.
    pub fn close(&mut self) {
        self.inner.lock().closed = true;
        self.inner.room.notify_waiters();
    }

    fn pop(&self, state: &mut State) -> Option<Outgoing> {
        let item = state.queue.pop_front()?;
        if state.queue.is_empty() && state.queue.capacity() > KEEP_CAPACITY {
            // A burst is over: give its memory back rather than keep it for an idle session.
            state.queue = VecDeque::new();
        }
        if state.waiting_senders > 0 {
            self.inner.room.notify_waiters();
        }
        Some(item)
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.close();
    }
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("outbox::Receiver").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use std::time::Duration;

    fn stanza(n: u8) -> Outgoing {
        Outgoing::Stanza(Bytes::from(vec![n]))
    }

    fn byte(out: Option<Outgoing>) -> Option<u8> {
        match out {
            Some(Outgoing::Stanza(b)) => Some(b[0]),
            _ => None,
        }
    }

    #[test]
    fn keeps_order_and_refuses_when_full() {
        let (tx, mut rx) = channel(2);
        assert!(tx.try_send(stanza(1)).is_ok());
        assert!(tx.try_send(stanza(2)).is_ok());
        assert!(matches!(tx.try_send(stanza(3)), Err(TrySendError::Full(_))));
        assert_eq!(byte(rx.try_recv()), Some(1));
        assert!(tx.try_send(stanza(3)).is_ok());
        assert_eq!(byte(rx.try_recv()), Some(2));
        assert_eq!(byte(rx.try_recv()), Some(3));
        assert!(rx.try_recv().is_none());
    }

    #[test]
    fn closed_refuses_sends_but_keeps_what_is_queued() {
        let (tx, mut rx) = channel(4);
        assert!(tx.try_send(stanza(1)).is_ok());
        rx.close();
        assert!(matches!(
            tx.try_send(stanza(2)),
            Err(TrySendError::Closed(_))
        ));
        assert_eq!(byte(rx.try_recv()), Some(1));
        drop(rx);
        assert!(matches!(
            tx.try_send(stanza(3)),
            Err(TrySendError::Closed(_))
        ));
    }

    #[test]
    fn drained_queue_gives_its_memory_back() {
        let (tx, mut rx) = channel(512);
        for n in 0..100 {
            assert!(tx.try_send(stanza(n)).is_ok());
        }
        assert!(rx.inner.lock().queue.capacity() >= 100);
        while rx.try_recv().is_some() {}
        assert!(rx.inner.lock().queue.capacity() <= KEEP_CAPACITY);
    }

    #[tokio::test]
    async fn recv_wakes_on_send_and_ends_when_senders_are_gone() {
        let (tx, mut rx) = channel(4);
        let tx2 = tx.clone();
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            while let Some(out) = rx.recv().await {
                got.extend(byte(Some(out)));
            }
            got
        });
        tokio::task::yield_now().await;
        assert!(tx.try_send(stanza(1)).is_ok());
        drop(tx);
        assert!(tx2.send(stanza(2)).await.is_ok());
        drop(tx2);
        let got = tokio::time::timeout(Duration::from_secs(5), reader)
            .await
            .expect("the receiver should end once both senders are gone")
            .expect("reader task");
        assert_eq!(got, vec![1, 2]);
    }

    #[tokio::test]
    async fn send_waits_for_room_and_fails_when_the_receiver_goes() {
        let (tx, mut rx) = channel(1);
        assert!(tx.try_send(stanza(1)).is_ok());
        let tx = Arc::new(tx);
        let waiting = {
            let tx = tx.clone();
            tokio::spawn(async move { tx.send(stanza(2)).await.is_ok() })
        };
        // Until there is room the send cannot finish; taking one item makes room.
        assert_eq!(byte(rx.recv().await), Some(1));
        let sent = tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("send should finish once there is room")
            .expect("sender task");
        assert!(sent);
        assert_eq!(byte(rx.recv().await), Some(2));

        assert!(tx.try_send(stanza(3)).is_ok());
        let blocked = {
            let tx = tx.clone();
            tokio::spawn(async move { tx.send(stanza(4)).await.is_ok() })
        };
        drop(rx);
        let sent = tokio::time::timeout(Duration::from_secs(5), blocked)
            .await
            .expect("send should give up once the receiver is gone")
            .expect("sender task");
        assert!(!sent);
    }
}
