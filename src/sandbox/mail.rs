//! A loopback SMTP server that keeps what it is sent, for tests and the demo
//! (issue 12): e-mail notices can be checked without a relay on the network.
//!
//! It speaks plain SMTP only (no STARTTLS), which `SmtpConfig::check` allows to
//! loopback: EHLO/HELO, AUTH PLAIN and LOGIN (any password is accepted and the
//! user recorded), MAIL, RCPT, DATA, RSET, NOOP and QUIT.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

/// A command line longer than this ends the session: lettre never sends one.
const MAX_LINE: u64 = 4096;
/// A message larger than this ends the session.
const MAX_MESSAGE: usize = 10 << 20;

/// One message as it arrived: the envelope, and the subject and body decoded
/// from whatever transfer encoding the sender chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    pub subject: String,
    pub body: String,
    /// The user the session signed in as, if it did.
    pub user: Option<String>,
}

/// How the sink misbehaves, to test what a sender does about it.
#[derive(Debug, Clone, Copy, Default)]
pub struct MailSinkBuilder {
    defer_mail: bool,
    refuse_sign_in: bool,
}

impl MailSinkBuilder {
    /// Answer every MAIL FROM with 451, a transient failure: nothing is kept.
    pub fn defer_mail(mut self) -> Self {
        self.defer_mail = true;
        self
    }

    /// Answer every AUTH with 535, credentials refused.
    pub fn refuse_sign_in(mut self) -> Self {
        self.refuse_sign_in = true;
        self
    }

    pub async fn start(self) -> std::io::Result<MailSink> {
        let listener = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            options: self,
            mail: Received::new(),
        });
        let accepting = shared.clone();
        let task = tokio::spawn(async move {
            // Held here so that stopping the sink also ends every open session.
            let mut sessions = JoinSet::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => match accepted {
                        Ok((stream, _)) => {
                            sessions.spawn(session(stream, accepting.clone()));
                        }
                        Err(e) => tracing::warn!(error = %e, "the mail sink cannot accept"),
                    },
                    Some(_) = sessions.join_next() => {}
                }
            }
        });
        Ok(MailSink { addr, shared, task })
    }
}

/// A running sink. Dropping it closes the port and every session.
pub struct MailSink {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

struct Shared {
    options: MailSinkBuilder,
    mail: Received<Mail>,
}

/// What a sink has received, in order, and a way to wait for more without
/// sleeping; the webhook sink keeps its posts the same way.
pub(crate) struct Received<T> {
    items: Mutex<Vec<T>>,
    count: watch::Sender<usize>,
}

impl<T: Clone> Received<T> {
    pub(crate) fn new() -> Self {
        Received {
            items: Mutex::new(Vec::new()),
            count: watch::Sender::new(0),
        }
    }

    pub(crate) fn push(&self, item: T) {
        let mut items = self.items.lock().unwrap_or_else(PoisonError::into_inner);
        items.push(item);
        self.count.send_replace(items.len());
    }

    pub(crate) fn all(&self) -> Vec<T> {
        self.items
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// All items once at least `n` have arrived, or those there are when
    /// `timeout` runs out.
    pub(crate) async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<T> {
        let mut count = self.count.subscribe();
        let _ = tokio::time::timeout(timeout, count.wait_for(|c| *c >= n)).await;
        self.all()
    }
}

impl MailSink {
    /// A sink that accepts everything.
    pub async fn start() -> std::io::Result<MailSink> {
        MailSinkBuilder::default().start().await
    }

    pub fn builder() -> MailSinkBuilder {
        MailSinkBuilder::default()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every message received so far, in the order they arrived.
    pub fn messages(&self) -> Vec<Mail> {
        self.shared.mail.all()
    }

    /// The messages once at least `n` have arrived, or those there are when
    /// `timeout` runs out.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Mail> {
        self.shared.mail.wait_for(n, timeout).await
    }
}

impl Drop for MailSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What a session has been told since its last MAIL FROM (or RSET).
#[derive(Default)]
struct Envelope {
    from: Option<String>,
    to: Vec<String>,
}

async fn session(stream: TcpStream, shared: Arc<Shared>) {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    let mut envelope = Envelope::default();
    let mut user = None;
    let mut reply = String::from("220 casbah-sandbox ESMTP\r\n");
    loop {
        if write.write_all(reply.as_bytes()).await.is_err() {
            return;
        }
        let Some(line) = read_line(&mut read).await else {
            return;
        };
        let (verb, rest) = line.split_once(' ').unwrap_or((&line, ""));
        reply = match verb.to_ascii_uppercase().as_str() {
            "EHLO" => {
                "250-casbah-sandbox\r\n250-AUTH PLAIN LOGIN\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
                    .into()
            }
            "HELO" => "250 casbah-sandbox\r\n".into(),
            "AUTH" => {
                let Some(signed_in) = sign_in(rest, &mut read, &mut write).await else {
                    return;
                };
                match signed_in {
                    Some(name) if !shared.options.refuse_sign_in => {
                        user = Some(name);
                        "235 2.7.0 Authentication successful\r\n".into()
                    }
                    Some(_) => "535 5.7.8 Authentication credentials invalid\r\n".into(),
                    None => "501 5.5.4 Malformed AUTH\r\n".into(),
                }
            }
            "MAIL" if shared.options.defer_mail => "451 4.3.0 Try again later\r\n".into(),
            "MAIL" => {
                envelope = Envelope {
                    from: Some(path(rest, "FROM:")),
                    to: Vec::new(),
                };
                "250 2.1.0 OK\r\n".into()
            }
            "RCPT" if envelope.from.is_some() => {
                envelope.to.push(path(rest, "TO:"));
                "250 2.1.5 OK\r\n".into()
            }
            "DATA" if !envelope.to.is_empty() => {
                if write
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await
                    .is_err()
                {
                    return;
                }
                let Some(data) = read_data(&mut read).await else {
                    return;
                };
                let envelope = std::mem::take(&mut envelope);
                keep(&shared, envelope, data, user.clone());
                "250 2.0.0 OK queued\r\n".into()
            }
            "RCPT" | "DATA" => "503 5.5.1 Bad sequence of commands\r\n".into(),
            "RSET" => {
                envelope = Envelope::default();
                "250 2.0.0 OK\r\n".into()
            }
            "NOOP" => "250 2.0.0 OK\r\n".into(),
            "QUIT" => {
                let _ = write.write_all(b"221 2.0.0 Bye\r\n").await;
                return;
            }
            _ => "502 5.5.2 Command not recognized\r\n".into(),
        };
    }
}

/// One line without its CRLF; None when the client went away or sent a line
/// no SMTP client would.
async fn read_line<R: AsyncRead + Unpin>(read: &mut BufReader<R>) -> Option<String> {
    let mut line = Vec::new();
    let n = (&mut *read)
        .take(MAX_LINE)
        .read_until(b'\n', &mut line)
        .await
        .ok()?;
    if n == 0 || line.last() != Some(&b'\n') {
        return None;
    }
    let line = String::from_utf8_lossy(&line);
    Some(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// The address of `MAIL FROM:<a> PARAMS` or `RCPT TO:<a>`, without brackets.
fn path(rest: &str, prefix: &str) -> String {
    let rest = rest.trim();
    let rest = match rest.get(..prefix.len()) {
        Some(head) if head.eq_ignore_ascii_case(prefix) => &rest[prefix.len()..],
        _ => rest,
    };
    let address = rest.trim_start().split(' ').next().unwrap_or_default();
    address
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_owned()
}

/// Runs an AUTH exchange; the outer None is a session to end, the inner one
/// a malformed exchange. Any password is accepted: only the user is kept.
async fn sign_in<R, W>(args: &str, read: &mut BufReader<R>, write: &mut W) -> Option<Option<String>>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let (mechanism, initial) = args.split_once(' ').unwrap_or((args, ""));
    let decode = |s: &str| STANDARD.decode(s.trim()).ok();
    Some(match mechanism.to_ascii_uppercase().as_str() {
        "PLAIN" => {
            let token = answer(read, write, b"334 \r\n", initial).await?;
            decode(&token).and_then(|plain| {
                // authzid NUL authcid NUL password
                let mut parts = plain.split(|b| *b == 0);
                let _authzid = parts.next()?;
                let user = parts.next()?;
                parts.next()?;
                Some(String::from_utf8_lossy(user).into_owned())
            })
        }
        "LOGIN" => {
            // "Username:" and "Password:", base64-encoded as RFC 4954 shows.
            let user = answer(read, write, b"334 VXNlcm5hbWU6\r\n", initial).await?;
            answer(read, write, b"334 UGFzc3dvcmQ6\r\n", "").await?;
            decode(&user).map(|u| String::from_utf8_lossy(&u).into_owned())
        }
        _ => None,
    })
}

/// What the client gave with the AUTH command, or its answer to `challenge`.
async fn answer<R, W>(
    read: &mut BufReader<R>,
    write: &mut W,
    challenge: &[u8],
    given: &str,
) -> Option<String>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    if !given.is_empty() {
        return Some(given.to_owned());
    }
    write.write_all(challenge).await.ok()?;
    read_line(read).await
}

/// The message after DATA, up to the lone dot, with dot-stuffing undone.
async fn read_data<R: AsyncRead + Unpin>(read: &mut BufReader<R>) -> Option<Vec<u8>> {
    let mut data = Vec::new();
    loop {
        let line = read_line(read).await?;
        if line == "." {
            return Some(data);
        }
        let line = line.strip_prefix('.').unwrap_or(&line);
        data.extend_from_slice(line.as_bytes());
        data.extend_from_slice(b"\r\n");
        if data.len() > MAX_MESSAGE {
            return None;
        }
    }
}

fn keep(shared: &Shared, envelope: Envelope, data: Vec<u8>, user: Option<String>) {
    let parsed = mail_parser::MessageParser::default().parse(&data);
    let subject = parsed
        .as_ref()
        .and_then(|m| m.subject())
        .unwrap_or_default()
        .to_owned();
    let body = parsed
        .as_ref()
        .and_then(|m| m.body_text(0))
        .map(|b| b.into_owned())
        .unwrap_or_else(|| String::from_utf8_lossy(&data).into_owned());
    let mail = Mail {
        from: envelope.from.unwrap_or_default(),
        to: envelope.to,
        subject,
        body,
        user,
    };
    shared.mail.push(mail);
}

#[cfg(test)]
mod tests {
    use super::*;

    // The sink by hand, as a client other than lettre would speak to it.
    #[tokio::test]
    async fn a_hand_written_session_is_kept_with_dots_unstuffed() {
        let sink = MailSink::start().await.unwrap();
        let mut stream = TcpStream::connect(sink.addr()).await.unwrap();
        let token = STANDARD.encode("\0ops\0secret");
        let script = format!(
            "HELO me\r\nAUTH PLAIN {token}\r\nMAIL FROM:<a@x> SIZE=10\r\nRCPT TO:<b@x>\r\nRSET\r\n\
             NOOP\r\nMAIL FROM:<c@x>\r\nRCPT TO:<d@x>\r\nDATA\r\nSubject: =?utf-8?b?w6l0w6k=?=\r\n\
             \r\n..one\r\n.\r\nQUIT\r\n"
        );
        stream.write_all(script.as_bytes()).await.unwrap();
        let mut replies = String::new();
        stream.read_to_string(&mut replies).await.unwrap();
        let codes: Vec<&str> = replies.lines().map(|l| &l[..3]).collect();
        assert_eq!(
            codes,
            [
                "220", "250", "235", "250", "250", "250", "250", "250", "250", "354", "250", "221"
            ]
        );
        let mail = sink.wait_for(1, Duration::from_secs(10)).await;
        assert_eq!(
            mail,
            [Mail {
                from: "c@x".into(),
                to: vec!["d@x".into()],
                subject: "été".into(),
                body: ".one\r\n".into(),
                user: Some("ops".into()),
            }]
        );
    }
}
