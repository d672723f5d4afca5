//! A graphql-ws client (the `graphql-transport-ws` subprotocol) over a real
//! websocket, speaking as a field app or the portal does.

use std::net::SocketAddr;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub struct WsClient {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl WsClient {
    /// Opens a socket to `/graphql` at `addr`, from a page of `origin` if
    /// given; the handshake's answer is the error when it is refused.
    pub async fn open(
        addr: SocketAddr,
        origin: Option<&str>,
    ) -> Result<WsClient, tokio_tungstenite::tungstenite::Error> {
        let mut request = format!("ws://{addr}/graphql")
            .into_client_request()
            .expect("a websocket request");
        let headers = request.headers_mut();
        headers.insert(
            "sec-websocket-protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        if let Some(origin) = origin {
            headers.insert("origin", HeaderValue::from_str(origin).expect("an origin"));
        }
        let (socket, response) = tokio_tungstenite::connect_async(request).await?;
        assert_eq!(
            response.headers()["sec-websocket-protocol"],
            "graphql-transport-ws"
        );
        Ok(WsClient { socket })
    }

    /// Opens a socket and signs in with `token`, expecting the server's ack.
    pub async fn connect(addr: SocketAddr, token: &str) -> WsClient {
        let mut client = Self::open(addr, None).await.expect("open a websocket");
        let answer = client
            .init(json!({ "Authorization": format!("Bearer {token}") }))
            .await;
        assert_eq!(answer["type"], "connection_ack", "{answer}");
        client
    }

    /// Sends `connection_init` with `payload`; returns the server's answer.
    pub async fn init(&mut self, payload: Value) -> Value {
        self.send(json!({ "type": "connection_init", "payload": payload }))
            .await;
        self.next(Duration::from_secs(10))
            .await
            .expect("an answer to connection_init")
    }

    pub async fn subscribe(&mut self, id: &str, query: &str) {
        self.send(json!({ "type": "subscribe", "id": id, "payload": { "query": query } }))
            .await;
    }

    pub async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::text(message.to_string()))
            .await
            .expect("send on the websocket");
    }

    /// The next message within `within` (pings are answered and skipped); a
    /// close frame as `{"type": "close", "code": ..., "reason": ...}`; none
    /// when nothing came in time or the socket ended.
    pub async fn next(&mut self, within: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let message = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .ok()??
                .ok()?;
            match message {
                Message::Text(text) => {
                    let value: Value = serde_json::from_str(&text).expect("JSON from the server");
                    if value["type"] == "ping" {
                        self.send(json!({ "type": "pong" })).await;
                        continue;
                    }
                    return Some(value);
                }
                Message::Close(frame) => {
                    let (code, reason) = frame
                        .map(|f| (u16::from(f.code), f.reason.to_string()))
                        .unwrap_or_default();
                    return Some(json!({ "type": "close", "code": code, "reason": reason }));
                }
                _ => continue,
            }
        }
    }
}
