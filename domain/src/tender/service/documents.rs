//! Tender documents: the owner adds them; any signed-in account downloads them (platform
//! registration is the only condition, 电子招标投标办法 Art 20), and every download is recorded,
//! shown only as docs/spec/visibility.md allows (Art 21).

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::json;

use super::query::get;
use super::{load_owned, record_mandate_use};
use crate::account::{Principal, parse_name};
use crate::audit::{Actor, Chain, NewEntry, store as audit};
use crate::error::{DomainError, DomainResult, ErrorCode, Text};
use crate::id::{DocumentId, TenderId};
use crate::ports::StoredObject;
use crate::store::begin_write;
use crate::tender::TenderStatus;
use crate::tender::store::{document_downloads, documents};

/// A document as everyone sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub id: String,
    pub tender_id: String,
    pub title: String,
    pub filename: String,
    pub content_type: String,
    pub size: u64,
    pub sha256: String,
    pub created_at: DateTime<Utc>,
}

impl From<documents::Model> for Document {
    fn from(m: documents::Model) -> Self {
        Self {
            id: m.id,
            tender_id: m.tender_id,
            title: m.title,
            filename: m.filename,
            content_type: m.content_type,
            size: u64::try_from(m.size).unwrap_or(0),
            sha256: m.sha256,
            created_at: m.created_at,
        }
    }
}

/// Whether `principal` may add documents to the tender now: its owner, before the deadline passed
/// and the tender was cancelled. Checked before the upload is read.
pub async fn check_can_add_document(
    db: &DatabaseConnection,
    principal: &Principal,
    tender: &TenderId,
) -> DomainResult<()> {
    let tender = load_owned(db, principal, tender).await?;
    if !matches!(tender.status, TenderStatus::Draft | TenderStatus::Active) {
        return Err(DomainError::Refused {
            code: ErrorCode::TenderClosed,
            message: Text::new(
                format!(
                    "The tender is {}: documents can no longer be added.",
                    tender.status.as_str()
                ),
                format!("该项目状态为 {}，不能再添加文件。", tender.status.as_str()),
            ),
        });
    }
    Ok(())
}

/// A file name as it may be shown and offered for download: its last path segment, without control
/// characters, quotes, or the bidirectional marks that make `invoice\u{202E}fdp.exe` read as
/// `invoiceexe.pdf`.
pub fn clean_filename(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && *c != '"' && !is_bidi_mark(*c))
        .take(200)
        .collect();
    let cleaned = cleaned.trim().to_owned();
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." {
        "document".to_owned()
    } else {
        cleaned
    }
}

/// Bidirectional embeddings, overrides, isolates and marks (Unicode UAX #9).
fn is_bidi_mark(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// The types a stored document is served as. Anything else, `text/html` and `image/svg+xml` above
/// all (a page that runs script on the platform's origin), is served as `application/octet-stream`:
/// the browser then saves the file instead of rendering it.
const SERVABLE_TYPES: &[&str] = &[
    "application/pdf",
    "application/ofd",
    "application/zip",
    "application/x-7z-compressed",
    "application/vnd.rar",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "image/png",
    "image/jpeg",
    "text/plain",
    "text/csv",
];

/// The `Content-Type` a document declared at upload, as it may be served: a type of the safe list
/// (without parameters), or `application/octet-stream`.
pub fn servable_content_type(declared: &str) -> &'static str {
    let essence = declared
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    SERVABLE_TYPES
        .iter()
        .find(|t| **t == essence)
        .copied()
        .unwrap_or("application/octet-stream")
}

/// An upload already in the document store, to be recorded.
#[derive(Debug, Clone)]
pub struct NewDocument {
    pub title: Option<String>,
    pub filename: String,
    pub content_type: String,
    pub stored: StoredObject,
}

/// Records a stored object as a document of the tender (its owner's).
pub async fn add_document(
    db: &DatabaseConnection,
    principal: &Principal,
    tender: &TenderId,
    upload: NewDocument,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<Document> {
    let tender_id = tender.as_str();
    check_can_add_document(db, principal, tender).await?;
    let NewDocument {
        title,
        filename,
        content_type,
        stored,
    } = upload;
    let filename = clean_filename(&filename);
    let title = match title.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => parse_name("title", t, 200)?,
        None => filename.clone(),
    };
    let id = DocumentId::generate().to_string();
    let txn = begin_write(db).await?;
    let tender = load_owned(&txn, principal, tender).await?;
    record_mandate_use(&txn, principal, &tender, "document.add", ip.clone(), now).await?;
    let model = documents::Model {
        id: id.clone(),
        tender_id: tender_id.to_owned(),
        title,
        filename,
        content_type: servable_content_type(&content_type).to_owned(),
        size: i64::try_from(stored.size).map_err(DomainError::internal)?,
        sha256: stored.sha256.clone(),
        uploaded_by: principal.account_id.to_string(),
        created_at: now,
    };
    documents::Entity::insert(documents::ActiveModel {
        id: Set(model.id.clone()),
        tender_id: Set(model.tender_id.clone()),
        title: Set(model.title.clone()),
        filename: Set(model.filename.clone()),
        content_type: Set(model.content_type.clone()),
        size: Set(model.size),
        sha256: Set(model.sha256.clone()),
        uploaded_by: Set(model.uploaded_by.clone()),
        created_at: Set(now),
    })
    .exec_without_returning(&txn)
    .await?;
    let actor = Actor::account(principal.account_id.as_str(), ip);
    audit::append(
        &txn,
        NewEntry::new(
            Chain::tender(tender_id),
            &actor,
            "document.add",
            format!("document:{id}"),
        )
        .details(json!({"filename": model.filename, "size": model.size, "sha256": model.sha256})),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(model.into())
}

/// The documents of a tender the viewer may see (published ones for anyone).
pub async fn list_documents(
    db: &DatabaseConnection,
    viewer: Option<&Principal>,
    tender: &TenderId,
) -> DomainResult<Vec<Document>> {
    get(db, viewer, tender).await?;
    Ok(documents::Entity::find()
        .filter(documents::Column::TenderId.eq(tender.as_str()))
        .order_by_asc(documents::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(Document::from)
        .collect())
}

/// A signed-in account takes a document: the download is recorded, and its audit entry is
/// withheld from supervisors until the bid deadline (who downloaded is secret until then, Art 21).
pub async fn download(
    db: &DatabaseConnection,
    principal: &Principal,
    tender: &TenderId,
    document: &DocumentId,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<Document> {
    let tender_id = tender.as_str();
    let tender = get(db, Some(principal), tender).await?;
    let document = documents::Entity::find_by_id(document.as_str().to_owned())
        .one(db)
        .await?
        .filter(|d| d.tender_id == tender_id)
        .ok_or(DomainError::NotFound)?;
    if !crate::deposit::service::fee_settled(db, principal, &tender).await? {
        let fee = crate::money::MoneyDto::from(tender.document_fee);
        return Err(DomainError::Refused {
            code: ErrorCode::FeeUnpaid,
            message: crate::error::Text::new(
                format!(
                    "This tender's documents cost {} {}: get your organization's fee account with POST /api/v1/tenders/{tender_id}/document-fee and pay into it first.",
                    fee.amount, fee.currency
                ),
                format!(
                    "本项目招标文件费为 {} {}：请先通过 POST /api/v1/tenders/{tender_id}/document-fee 获取本单位的缴费账号并缴费。",
                    fee.amount, fee.currency
                ),
            ),
        });
    }
    let organization = principal
        .membership
        .as_ref()
        .map(|m| m.organization_id.to_string());
    let txn = begin_write(db).await?;
    document_downloads::Entity::insert(document_downloads::ActiveModel {
        tender_id: Set(tender_id.to_owned()),
        document_id: Set(document.id.clone()),
        account_id: Set(principal.account_id.to_string()),
        organization_id: Set(organization.clone()),
        ip: Set(ip.clone()),
        at: Set(now),
        ..Default::default()
    })
    .exec_without_returning(&txn)
    .await?;
    let actor = Actor::account(principal.account_id.as_str(), ip);
    let mut entry = NewEntry::new(
        Chain::tender_sealed(tender_id),
        &actor,
        "document.download",
        format!("document:{}", document.id),
    )
    .details(json!({"organization_id": organization}));
    entry.withheld_until = Some(tender.bid_deadline);
    audit::append(&txn, entry, now).await?;
    txn.commit().await?;
    Ok(document.into())
}

/// One recorded download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadRecord {
    pub document_id: String,
    pub account_id: String,
    pub organization_id: Option<String>,
    pub at: DateTime<Utc>,
}

/// Who downloaded a tender's documents, as docs/spec/visibility.md allows: before the bid
/// deadline a caller sees only its own organization's downloads; after it the tender's owners and
/// supervisors see them all; nobody else sees any.
pub async fn downloads(
    db: &DatabaseConnection,
    principal: &Principal,
    tender: &TenderId,
    now: DateTime<Utc>,
) -> DomainResult<Vec<DownloadRecord>> {
    let tender_id = tender.as_str();
    let tender = get(db, Some(principal), tender).await?;
    let mut query = document_downloads::Entity::find()
        .filter(document_downloads::Column::TenderId.eq(tender_id));
    // For an auction, who downloaded stays withheld until its result (its bidders are pseudonyms).
    let sees_all = now >= tender.bid_deadline
        && (tender.is_owned_by(principal) || principal.is_supervisor())
        && !crate::auction::awaiting_result(db, &TenderId::parse(tender_id)?).await?;
    if !sees_all {
        let Some(own) = principal
            .membership
            .as_ref()
            .map(|m| m.organization_id.to_string())
        else {
            return Ok(Vec::new());
        };
        query = query.filter(document_downloads::Column::OrganizationId.eq(own));
    }
    Ok(query
        .order_by_asc(document_downloads::Column::Id)
        .limit(10_000)
        .all(db)
        .await?
        .into_iter()
        .map(|d| DownloadRecord {
            document_id: d.document_id,
            account_id: d.account_id,
            organization_id: d.organization_id,
            at: d.at,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_declared_as_a_page_is_served_as_bytes_to_save() {
        assert_eq!(
            servable_content_type("text/html"),
            "application/octet-stream"
        );
        assert_eq!(
            servable_content_type("image/svg+xml"),
            "application/octet-stream"
        );
        assert_eq!(servable_content_type(""), "application/octet-stream");
        assert_eq!(
            servable_content_type("Application/PDF; x=1"),
            "application/pdf"
        );
    }

    #[test]
    fn file_names_lose_bidirectional_overrides() {
        assert_eq!(clean_filename("invoice\u{202E}fdp.exe"), "invoicefdp.exe");
        assert_eq!(clean_filename("a\u{2066}b\u{2069}\u{200F}.pdf"), "ab.pdf");
        assert_eq!(clean_filename("../../招标文件.pdf"), "招标文件.pdf");
    }
}
