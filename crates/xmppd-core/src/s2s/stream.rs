//! One server-to-server socket (plain, or TLS as client or server) with the stream reader on
//! top: read the next stream event, write elements and headers, restart after TLS or SASL.

use super::S2sError;
use minidom::Element;
use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use xmppd_stream::{Limits, StreamEvent, StreamHeader, StreamReader, ns, writer};

/// Read buffer: on the stack during a read only, as in c2s.
const READ_CHUNK: usize = 4096;

pub(crate) enum Io {
    Plain(TcpStream),
    Client(Box<tokio_rustls::client::TlsStream<TcpStream>>),
    Server(Box<tokio_rustls::server::TlsStream<TcpStream>>),
    /// Only while a handshake owns the socket.
    Upgrading,
}

impl std::fmt::Debug for Io {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Io::Plain(_) => "Plain",
            Io::Client(_) => "Client",
            Io::Server(_) => "Server",
            Io::Upgrading => "Upgrading",
        })
    }
}

macro_rules! each {
    ($self:ident, $m:ident ( $($arg:expr),* ), $none:expr) => {
        match $self.get_mut() {
            Io::Plain(s) => Pin::new(s).$m($($arg),*),
            Io::Client(s) => Pin::new(s.as_mut()).$m($($arg),*),
            Io::Server(s) => Pin::new(s.as_mut()).$m($($arg),*),
            Io::Upgrading => $none,
        }
    };
}

impl AsyncRead for Io {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        each!(
            self,
            poll_read(cx, buf),
            Poll::Ready(Err(io::ErrorKind::NotConnected.into()))
        )
    }
}

impl AsyncWrite for Io {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        each!(
            self,
            poll_write(cx, buf),
            Poll::Ready(Err(io::ErrorKind::NotConnected.into()))
        )
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each!(self, poll_flush(cx), Poll::Ready(Ok(())))
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each!(self, poll_shutdown(cx), Poll::Ready(Ok(())))
    }
}

/// A server stream: socket plus reader.
#[derive(Debug)]
pub(crate) struct Stream {
    pub(crate) io: Io,
    reader: StreamReader,
    limits: Limits,
    /// Events parsed from the last read and not yet taken.
    pending: VecDeque<StreamEvent>,
}

impl Stream {
    pub(crate) fn new(io: Io, limits: Limits) -> Self {
        Self {
            io,
            reader: StreamReader::new(limits),
            limits,
            pending: VecDeque::new(),
        }
    }

    /// Expect a new stream header (after TLS or SASL); anything read before is dropped
    /// (RFC 6120 §5.4.3.3: nothing sent before the upgrade may be acted on after it).
    pub(crate) fn restart(&mut self) {
        self.reader = StreamReader::new(self.limits);
        self.pending = VecDeque::new();
    }

    /// The next stream event; an error when the socket closed or the XML was refused.
    pub(crate) async fn next(&mut self) -> Result<StreamEvent, S2sError> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Ok(event);
            }
            let Self {
                io,
                reader,
                pending,
                ..
            } = self;
            std::future::poll_fn(|cx| {
                let mut chunk = [0u8; READ_CHUNK];
                let mut buf = ReadBuf::new(&mut chunk);
                match Pin::new(&mut *io).poll_read(cx, &mut buf) {
                    Poll::Pending => Poll::Pending,
                    Poll::Ready(Err(e)) => Poll::Ready(Err(S2sError::Io(e))),
                    Poll::Ready(Ok(())) if buf.filled().is_empty() => {
                        Poll::Ready(Err(S2sError::Closed))
                    }
                    Poll::Ready(Ok(())) => match reader.feed(buf.filled()) {
                        Ok(events) => {
                            pending.extend(events);
                            Poll::Ready(Ok(()))
                        }
                        Err(e) => Poll::Ready(Err(S2sError::Framing(e))),
                    },
                }
            })
            .await?;
            if self.pending.capacity() > 16 && self.pending.is_empty() {
                self.pending = VecDeque::new();
            }
        }
    }

    /// The next top-level element, skipping whitespace; an error on a header or close.
    pub(crate) async fn element(&mut self) -> Result<Element, S2sError> {
        loop {
            match self.next().await? {
                StreamEvent::Stanza(el) => {
                    if el.is("error", ns::STREAM) {
                        return Err(S2sError::PeerStreamError(stream_error_text(&el)));
                    }
                    return Ok(el);
                }
                StreamEvent::Whitespace => {}
                StreamEvent::Close => return Err(S2sError::Closed),
                StreamEvent::Header(_) => return Err(S2sError::Unexpected("a second header")),
            }
        }
    }

    /// The peer's stream header.
    pub(crate) async fn header(&mut self) -> Result<StreamHeader, S2sError> {
        loop {
            match self.next().await? {
                StreamEvent::Header(h) => return Ok(h),
                StreamEvent::Whitespace => {}
                _ => return Err(S2sError::Unexpected("an element before the stream header")),
            }
        }
    }

    /// Writes (without flushing) one element of a `jabber:server` stream.
    pub(crate) async fn write(&mut self, el: &Element) -> Result<(), S2sError> {
        let bytes = writer::element_in(el, ns::JABBER_SERVER)
            .map_err(|e| S2sError::Serialise(e.to_string()))?;
        self.io.write_all(&bytes).await.map_err(S2sError::Io)
    }

    /// Writes one element and flushes.
    pub(crate) async fn send(&mut self, el: &Element) -> Result<(), S2sError> {
        self.write(el).await?;
        self.flush().await
    }

    pub(crate) async fn flush(&mut self) -> Result<(), S2sError> {
        self.io.flush().await.map_err(S2sError::Io)
    }

    /// Writes and flushes our stream header.
    pub(crate) async fn send_header(
        &mut self,
        from: Option<&str>,
        to: Option<&str>,
        id: Option<&str>,
    ) -> Result<(), S2sError> {
        let header = StreamHeader {
            to: to.map(str::to_owned),
            from: from.map(str::to_owned),
            id: id.map(str::to_owned),
            version: Some("1.0".to_owned()),
            lang: None,
            xmlns: ns::JABBER_SERVER.to_owned(),
        };
        let bytes = writer::header_s2s(&header).map_err(|e| S2sError::Serialise(e.to_string()))?;
        self.io.write_all(&bytes).await.map_err(S2sError::Io)?;
        self.flush().await
    }

    /// Sends a stream error and closes our side.
    pub(crate) async fn fail(&mut self, error: xmppd_stream::StreamError) {
        if let Ok(bytes) = error.to_bytes() {
            let _ = self.io.write_all(&bytes).await;
        }
        self.close().await;
    }

    /// Closes our side of the stream.
    pub(crate) async fn close(&mut self) {
        let _ = self.io.write_all(writer::STREAM_CLOSE).await;
        let _ = self.io.flush().await;
        let _ = self.io.shutdown().await;
    }

    /// The peer's certificate chain, once TLS is up.
    pub(crate) fn peer_chain(&self) -> Option<Vec<rustls_pki_types::CertificateDer<'static>>> {
        let certs = match &self.io {
            Io::Client(tls) => tls.get_ref().1.peer_certificates(),
            Io::Server(tls) => tls.get_ref().1.peer_certificates(),
            _ => None,
        };
        certs.map(<[_]>::to_vec)
    }

    pub(crate) fn is_tls(&self) -> bool {
        matches!(self.io, Io::Client(_) | Io::Server(_))
    }
}

fn stream_error_text(el: &Element) -> String {
    el.children()
        .find(|c| c.ns() == ns::XMPP_STREAMS && c.name() != "text")
        .map(|c| c.name().to_owned())
        .unwrap_or_else(|| "undefined-condition".to_owned())
}
