//! Tender documents (docs/spec/api-contract.md "Documents"): upload (streamed to the document store), list, download
//! (streamed back with its digest, recorded), and who downloaded.

use axum::Json;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::Serialize;
use tenderhall_domain::error::ErrorCode;
use tenderhall_domain::error::Text;
use tenderhall_domain::id::{DocumentId, TenderId};
use tenderhall_domain::ports::{ByteStream, StoreError, StoredObject};
use tenderhall_domain::tender::service::{self as tenders, Document, NewDocument};
use utoipa::ToSchema;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use super::{Page, Problem};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, ClientIp, MaybeAuth};
use crate::state::AppState;

pub fn router(max_document_bytes: u64) -> OpenApiRouter<AppState> {
    let upload_limit =
        usize::try_from(max_document_bytes.saturating_add(1024 * 1024)).unwrap_or(usize::MAX);
    OpenApiRouter::new()
        .routes(routes!(upload_document, list_documents).layer(DefaultBodyLimit::max(upload_limit)))
        .routes(routes!(download_document))
        .routes(routes!(list_downloads))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentResponse {
    pub document_id: String,
    pub title: String,
    pub filename: String,
    pub content_type: String,
    pub size: u64,
    /// Lowercase hex SHA-256 of the bytes.
    pub sha256: String,
    /// When it became public: the later of its upload and the tender's publication.
    pub published_at: Option<DateTime<Utc>>,
}

fn response(d: Document, tender_published: Option<DateTime<Utc>>) -> DocumentResponse {
    DocumentResponse {
        published_at: tender_published.map(|p| p.max(d.created_at)),
        document_id: d.id,
        title: d.title,
        filename: d.filename,
        content_type: d.content_type,
        size: d.size,
        sha256: d.sha256,
    }
}

pub(crate) fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::TooLarge(limit) => {
            ApiError::too_large(usize::try_from(limit).unwrap_or(usize::MAX))
        }
        StoreError::Upload(e) => ApiError::new(
            ErrorCode::BadUpload,
            Text::new(
                format!("The upload broke off: {e}. Nothing was stored; send it again."),
                format!("上传中断：{e}。未保存任何内容，请重新上传。"),
            ),
        ),
        StoreError::Unavailable(cause) => {
            tracing::error!(%cause, "document store unavailable");
            ApiError::unavailable(
                "The document store does not answer; try again shortly.",
                "文档存储暂不可用，请稍后重试。",
            )
        }
        other => {
            tracing::error!(error = %other, "document store");
            ApiError::internal()
        }
    }
}

fn bad_multipart(e: axum::extract::multipart::MultipartError, limit: u64) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::too_large(usize::try_from(limit).unwrap_or(usize::MAX));
    }
    ApiError::new(
        ErrorCode::BadUpload,
        Text::new(
            format!("The multipart/form-data body is malformed: {e}."),
            format!("multipart/form-data 请求体格式错误：{e}。"),
        ),
    )
}

/// Streams one multipart field into the store: memory stays flat whatever the file's size.
async fn store_field(
    state: &AppState,
    field: &mut axum::extract::multipart::Field<'_>,
    limit: u64,
) -> ApiResult<StoredObject> {
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(4);
    let body: ByteStream = Box::pin(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    }));
    let store = state.store().clone();
    let put = tokio::spawn(async move { store.put(body, limit).await });
    loop {
        match field.chunk().await {
            Ok(Some(chunk)) => {
                if tx.send(Ok(chunk)).await.is_err() {
                    break; // the store stopped reading: it says why below
                }
            }
            Ok(None) => break,
            Err(e) => {
                let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
                break;
            }
        }
    }
    drop(tx);
    put.await
        .map_err(|e| {
            tracing::error!(error = %e, "store task");
            ApiError::internal()
        })?
        .map_err(store_error)
}

/// Upload a tender document (its owner): `multipart/form-data` with a `file` part and an optional
/// `title` part.
#[utoipa::path(
    post,
    path = "/api/v1/tenders/{id}/documents",
    tag = "tenders",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body(content_type = "multipart/form-data", description = "`file` (the document) and optional `title`"),
    responses(
        (status = 201, body = DocumentResponse),
        (status = 404, body = Problem),
        (status = 409, description = "`tender_closed`", body = Problem),
        (status = 413, description = "`too_large`", body = Problem),
        (status = 422, description = "`invalid`: no `file` part", body = Problem),
    )
)]
async fn upload_document(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
    Path(id): Path<String>,
    multipart: Multipart,
) -> ApiResult<(StatusCode, Json<DocumentResponse>)> {
    let tender_id = TenderId::parse(&id)?;
    let document = receive_document(&state, &auth.principal, &tender_id, multipart, ip).await?;
    let tender = tenders::get(state.db(), Some(&auth.principal), &tender_id).await?;
    Ok((
        StatusCode::CREATED,
        Json(response(document, tender.published_at)),
    ))
}

/// Streams a `multipart/form-data` upload (`file`, optional `title`) into the store and records it
/// as a document of the tender: the API's upload and the workbench's.
pub(crate) async fn receive_document(
    state: &AppState,
    principal: &tenderhall_domain::account::Principal,
    tender_id: &TenderId,
    mut multipart: Multipart,
    ip: String,
) -> ApiResult<Document> {
    // Refuse before reading a byte of the upload.
    tenders::check_can_add_document(state.db(), principal, tender_id).await?;
    let limit = state.settings().max_document_bytes;
    let mut title = None;
    let mut upload = None;
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|e| bad_multipart(e, limit))?
    {
        match field.name() {
            Some("title") => title = Some(field.text().await.map_err(|e| bad_multipart(e, limit))?),
            Some("file") if upload.is_none() => {
                let filename = field.file_name().unwrap_or("document").to_owned();
                let content_type = field
                    .content_type()
                    .unwrap_or("application/octet-stream")
                    .to_owned();
                let stored = store_field(state, &mut field, limit).await?;
                upload = Some((filename, content_type, stored));
            }
            _ => {}
        }
    }
    let Some((filename, content_type, stored)) = upload else {
        return Err(ApiError::invalid(
            "file",
            "Send the document in a `file` part of multipart/form-data.",
            "请在 multipart/form-data 的 `file` 部分上传文件。",
        ));
    };
    Ok(tenders::add_document(
        state.db(),
        principal,
        tender_id,
        NewDocument {
            title,
            filename,
            content_type,
            stored,
        },
        Some(ip),
        state.now(),
    )
    .await?)
}

/// A tender's documents (anyone, for a published tender).
#[utoipa::path(
    get,
    path = "/api/v1/tenders/{id}/documents",
    security((), ("bearer" = [])),
    tag = "tenders",
    params(("id" = String, Path)),
    responses((status = 200, body = Page<DocumentResponse>), (status = 404, body = Problem))
)]
async fn list_documents(
    State(state): State<AppState>,
    MaybeAuth(viewer): MaybeAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<Page<DocumentResponse>>> {
    let tender_id = TenderId::parse(&id)?;
    let tender = tenders::get(state.db(), viewer.as_ref(), &tender_id).await?;
    let items = tenders::list_documents(state.db(), viewer.as_ref(), &tender_id).await?;
    Ok(Json(Page {
        items: items
            .into_iter()
            .map(|d| response(d, tender.published_at))
            .collect(),
        next_cursor: None,
    }))
}

/// RFC 5987 / RFC 6266: an ASCII fallback and the UTF-8 name, percent-encoded.
fn content_disposition(filename: &str) -> String {
    let fallback: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in filename.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

/// Download a document (any signed-in account; the download is recorded). The bytes stream with
/// `Repr-Digest: sha-256=:…:` (RFC 9530), checked against the store on the way out.
#[utoipa::path(
    get,
    path = "/api/v1/tenders/{id}/documents/{document_id}",
    tag = "tenders",
    security(("bearer" = [])),
    params(("id" = String, Path), ("document_id" = String, Path)),
    responses((status = 200, content_type = "application/octet-stream"), (status = 401, body = Problem), (status = 404, body = Problem))
)]
async fn download_document(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
    Path((id, document_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    serve_document(&state, &auth.principal, &id, &document_id, ip).await
}

/// A document's bytes for a caller the rules let download it (the fee paid, 实施条例 Art 16),
/// recorded as a download: the API's and the workbench's.
pub(crate) async fn serve_document(
    state: &AppState,
    principal: &tenderhall_domain::account::Principal,
    id: &str,
    document_id: &str,
    ip: String,
) -> ApiResult<Response> {
    let document = tenders::download(
        state.db(),
        principal,
        &TenderId::parse(id)?,
        &DocumentId::parse(document_id)?,
        Some(ip),
        state.now(),
    )
    .await?;
    let stream = state
        .store()
        .get(&document.sha256)
        .await
        .map_err(store_error)?;
    let digest = hex_to_base64(&document.sha256);
    let mut response = Response::new(Body::from_stream(stream));
    let headers = response.headers_mut();
    let put = |v: String| {
        HeaderValue::from_str(&v).unwrap_or(HeaderValue::from_static("application/octet-stream"))
    };
    // Rows stored before uploads were normalized may hold any type: checked again on the way out.
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(tenders::servable_content_type(&document.content_type)),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(document.size));
    headers.insert(
        header::CONTENT_DISPOSITION,
        put(content_disposition(&document.filename)),
    );
    headers.insert("repr-digest", put(format!("sha-256=:{digest}:")));
    Ok(response)
}

fn hex_to_base64(hex_digest: &str) -> String {
    hex::decode(hex_digest)
        .map(|raw| BASE64.encode(raw))
        .unwrap_or_default()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DownloadResponse {
    pub document_id: String,
    pub account_id: String,
    pub organization_id: Option<String>,
    pub at: DateTime<Utc>,
}

/// Who downloaded the documents: before the bid deadline, only the caller's own organization's
/// downloads; after it, all of them for the tender's owners and supervisors (电子招标投标办法 Art 21).
#[utoipa::path(
    get,
    path = "/api/v1/tenders/{id}/downloads",
    tag = "tenders",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Page<DownloadResponse>), (status = 401, body = Problem), (status = 404, body = Problem))
)]
async fn list_downloads(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Page<DownloadResponse>>> {
    let records = tenders::downloads(
        state.db(),
        &auth.principal,
        &TenderId::parse(&id)?,
        state.now(),
    )
    .await?;
    let items = records
        .into_iter()
        .map(|d| DownloadResponse {
            document_id: d.document_id,
            account_id: d.account_id,
            organization_id: d.organization_id,
            at: d.at,
        })
        .collect();
    Ok(Json(Page {
        items,
        next_cursor: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6266_names_carry_utf8_and_a_safe_fallback() {
        assert_eq!(
            content_disposition("招标文件 v2.pdf"),
            "attachment; filename=\"____ v2.pdf\"; filename*=UTF-8''%E6%8B%9B%E6%A0%87%E6%96%87%E4%BB%B6%20v2.pdf"
        );
    }
}
