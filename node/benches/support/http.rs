//! The benches' HTTP client: one hyper HTTP/1.1 keep-alive connection per
//! task, reconnecting after a transport error.

use super::{Res, err};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;

pub struct Conn {
    addr: SocketAddr,
    host: String,
    tx: Option<SendRequest<Full<Bytes>>>,
}

impl Conn {
    pub fn new(addr: SocketAddr) -> Conn {
        Conn {
            addr,
            host: addr.to_string(),
            tx: None,
        }
    }

    async fn sender(&mut self) -> Res<&mut SendRequest<Full<Bytes>>> {
        if self.tx.as_ref().is_none_or(|t| t.is_closed()) {
            let stream = tokio::net::TcpStream::connect(self.addr)
                .await
                .map_err(err("connect"))?;
            stream.set_nodelay(true).map_err(err("nodelay"))?;
            let (tx, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .map_err(err("handshake"))?;
            tokio::spawn(async move {
                let _ = conn.await;
            });
            self.tx = Some(tx);
        }
        Ok(self.tx.as_mut().expect("connected"))
    }

    /// A `GET` of `path`.
    pub async fn get(&mut self, path: &str) -> Res<(StatusCode, Bytes)> {
        self.call(Method::GET, path, Bytes::new()).await
    }

    /// One request; a transport error drops the connection (the next call reconnects).
    pub async fn call(
        &mut self,
        method: Method,
        path: &str,
        body: Bytes,
    ) -> Res<(StatusCode, Bytes)> {
        let r = self.call_inner(method, path, body).await;
        if r.is_err() {
            self.tx = None;
        }
        r
    }

    async fn call_inner(
        &mut self,
        method: Method,
        path: &str,
        body: Bytes,
    ) -> Res<(StatusCode, Bytes)> {
        let host = self.host.clone();
        let tx = self.sender().await?;
        tx.ready().await.map_err(err("connection"))?;
        let mut req = Request::builder()
            .method(method.clone())
            .uri(path)
            .header(hyper::header::HOST, host);
        if method == Method::POST {
            req = req.header(hyper::header::CONTENT_TYPE, "application/json");
        }
        let req = req.body(Full::new(body)).map_err(err("request"))?;
        let resp = tx.send_request(req).await.map_err(err("request"))?;
        let status = resp.status();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(err("response body"))?
            .to_bytes();
        Ok((status, body))
    }
}
