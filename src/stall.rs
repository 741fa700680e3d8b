//! Connections whose peer stopped reading: a write that makes no progress for a while fails,
//! and so does every read and write after it, so the whole connection ends.
//!
//! engineioxide 0.17.9's WebSocket writer awaits each frame's write without watching for the
//! session's end, and closing a session waits for that writer. A client that stops reading
//! (its TCP window closed) therefore kept its socket, its queue and the frame being written
//! (a whole `sync:full`) forever, heartbeat timeout or not. Failing the write is the one place
//! below engineioxide where that wait can end.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

/// How long a write may wait for the peer to take a byte. A browser, even in a background tab,
/// reads its sockets; a closed window for this long is a peer that does not, and every second
/// more keeps its queue and the frame being written (up to a whole `sync:full`) in memory.
pub const WRITE_STALL: Duration = Duration::from_secs(10);

/// One connection, with the deadline of the write it is waiting on, if any.
pub struct Guarded<S> {
    inner: S,
    limit: Duration,
    /// Armed when a write first finds the peer's window closed; disarmed by any progress.
    stall: Option<Pin<Box<Sleep>>>,
    /// Set once the deadline passed: every later read and write fails.
    stalled: bool,
    /// The reader parked meanwhile, woken to see `stalled`: the server's read side would
    /// otherwise wait for a client that sends nothing.
    reader: Option<Waker>,
}

impl<S> Guarded<S> {
    pub fn new(inner: S, limit: Duration) -> Guarded<S> {
        Guarded { inner, limit, stall: None, stalled: false, reader: None }
    }

    /// Passes a write's progress through, or fails it once it has waited past the deadline.
    fn watch<T>(&mut self, cx: &mut Context<'_>, poll: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if poll.is_ready() {
            self.stall = None;
            return poll;
        }
        let limit = self.limit;
        let deadline = self.stall.get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        if deadline.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        self.stalled = true;
        if let Some(reader) = self.reader.take() {
            reader.wake();
        }
        Poll::Ready(Err(stalled()))
    }
}

fn stalled() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "the peer stopped reading")
}

impl<S: AsyncRead + Unpin> AsyncRead for Guarded<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.stalled {
            return Poll::Ready(Err(stalled()));
        }
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        if poll.is_pending() {
            self.reader = Some(cx.waker().clone());
        }
        poll
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Guarded<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if self.stalled {
            return Poll::Ready(Err(stalled()));
        }
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.watch(cx, poll)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.stalled {
            return Poll::Ready(Err(stalled()));
        }
        let poll = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.watch(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.stalled {
            return Poll::Ready(Err(stalled()));
        }
        let poll = Pin::new(&mut self.inner).poll_flush(cx);
        self.watch(cx, poll)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Nothing more will be written to a stalled peer: closing must not wait for it either.
        if self.stalled {
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    const LIMIT: Duration = Duration::from_millis(100);

    #[tokio::test]
    async fn a_write_the_peer_never_reads_fails_after_the_limit_and_so_does_the_pending_read() {
        let (server, _client) = tokio::io::duplex(1024);
        let (mut read, mut write) = tokio::io::split(Guarded::new(server, LIMIT));
        let reading = tokio::spawn(async move { read.read(&mut [0; 16]).await });

        let started = tokio::time::Instant::now();
        let err = write.write_all(&[7; 4096]).await.unwrap_err();

        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(started.elapsed() >= LIMIT);
        let read = reading.await.unwrap();
        assert_eq!(read.unwrap_err().kind(), io::ErrorKind::TimedOut, "the parked reader ends too");
        assert!(write.write_all(b"x").await.is_err(), "a stalled connection stays failed");
    }

    #[tokio::test]
    async fn a_peer_that_reads_slowly_but_keeps_up_within_the_limit_is_not_cut_off() {
        let (server, mut client) = tokio::io::duplex(1024);
        let mut guarded = Guarded::new(server, LIMIT);
        let reader = tokio::spawn(async move {
            let mut got = 0;
            let mut buf = [0; 512];
            while got < 8192 {
                // Each pause is under the limit; together they are far over it.
                tokio::time::sleep(LIMIT / 4).await;
                got += client.read(&mut buf).await.unwrap();
            }
            got
        });

        guarded.write_all(&[1; 8192]).await.unwrap();

        assert_eq!(reader.await.unwrap(), 8192);
    }
}
