//! Verdicts on content as reporting follows them, for the counting rule: a case rests only on
//! fabricated material when every item it links stands judged fabricated — by the latest verdict
//! on the item's bytes (intake's `ContentAssessed`), or, where those bytes have none, by the
//! case's own assessment. One verdict on one copy thus reaches every case linking any copy.

use sea_orm::{ConnectionTrait, DbErr};

use crate::sql::{execute, query};

/// Records that evidence `evidence_id` holds the bytes `sha256`.
pub async fn record_evidence<C: ConnectionTrait>(
    conn: &C,
    evidence_id: &str,
    sha256: &str,
) -> Result<(), DbErr> {
    execute(
        conn,
        "INSERT INTO evidence_content (evidence_id, sha256) VALUES (?, ?) \
         ON CONFLICT (evidence_id) DO UPDATE SET sha256 = excluded.sha256",
        vec![evidence_id.into(), sha256.into()],
    )
    .await
}

/// Records that evidence `evidence_id` was uploaded with allegation `allegation_id`.
pub async fn record_allegation<C: ConnectionTrait>(
    conn: &C,
    evidence_id: &str,
    allegation_id: &str,
) -> Result<(), DbErr> {
    execute(
        conn,
        "INSERT INTO evidence_allegations (evidence_id, allegation_id) VALUES (?, ?) \
         ON CONFLICT (evidence_id) DO UPDATE SET allegation_id = excluded.allegation_id",
        vec![evidence_id.into(), allegation_id.into()],
    )
    .await
}

/// What an allegation rests on (`DIMENSION_MATERIAL`), as an SQL expression over the allegation
/// facts `f`: `only_fabricated` when it has evidence and the content of every item stands judged
/// fabricated, `no_evidence` when it has none, `other` otherwise.
pub const ALLEGATION_MATERIAL: &str = "CASE \
     WHEN NOT EXISTS (SELECT 1 FROM evidence_allegations ea \
       WHERE ea.allegation_id = f.allegation_id) THEN 'no_evidence' \
     WHEN NOT EXISTS (SELECT 1 FROM evidence_allegations ea \
       LEFT JOIN evidence_content ec ON ec.evidence_id = ea.evidence_id \
       LEFT JOIN content_standing cs ON cs.sha256 = ec.sha256 \
       WHERE ea.allegation_id = f.allegation_id AND (cs.fabricated IS NULL OR NOT cs.fabricated)) \
       THEN 'only_fabricated' \
     ELSE 'other' END";

/// Records the latest verdict on the bytes `sha256`.
pub async fn record_verdict<C: ConnectionTrait>(
    conn: &C,
    sha256: &str,
    verdict: &str,
) -> Result<(), DbErr> {
    execute(
        conn,
        "INSERT INTO content_standing (sha256, verdict, fabricated) VALUES (?, ?, ?) \
         ON CONFLICT (sha256) DO UPDATE SET verdict = excluded.verdict, \
         fabricated = excluded.fabricated",
        vec![
            sha256.into(),
            verdict.into(),
            judged_fabricated(verdict).into(),
        ],
    )
    .await
}

/// Whether a verdict name judges content fabricated.
pub fn judged_fabricated(verdict: &str) -> bool {
    matches!(
        verdict,
        "CONTENT_VERDICT_LIKELY_FABRICATED" | "CONTENT_VERDICT_FABRICATED_OR_MANIPULATED"
    )
}

/// Replaces the evidence case `case_id` links with `linked`; `case_fabricated` are those the
/// case's own assessments judge fabricated.
pub async fn store_links<C: ConnectionTrait>(
    conn: &C,
    case_id: &str,
    linked: &[String],
    case_fabricated: &[String],
) -> Result<(), DbErr> {
    execute(
        conn,
        "DELETE FROM case_evidence_links WHERE case_id = ?",
        vec![case_id.into()],
    )
    .await?;
    let mut unique: Vec<&String> = linked.iter().collect();
    unique.sort();
    unique.dedup();
    for evidence_id in unique {
        execute(
            conn,
            "INSERT INTO case_evidence_links (case_id, evidence_id, case_fabricated) \
             VALUES (?, ?, ?)",
            vec![
                case_id.into(),
                evidence_id.clone().into(),
                case_fabricated.contains(evidence_id).into(),
            ],
        )
        .await?;
    }
    Ok(())
}

/// Whether case `case_id` links evidence and every item stands judged fabricated.
pub async fn only_fabricated<C: ConnectionTrait>(conn: &C, case_id: &str) -> Result<bool, DbErr> {
    let rows = query(
        conn,
        "SELECT l.case_fabricated, s.fabricated FROM case_evidence_links l \
         LEFT JOIN evidence_content e ON e.evidence_id = l.evidence_id \
         LEFT JOIN content_standing s ON s.sha256 = e.sha256 \
         WHERE l.case_id = ?",
        vec![case_id.into()],
    )
    .await?;
    if rows.is_empty() {
        return Ok(false);
    }
    for row in &rows {
        let by_case: bool = row.try_get_by_index(0)?;
        let by_content: Option<bool> = row.try_get_by_index(1)?;
        if !by_content.unwrap_or(by_case) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The cases linking evidence `evidence_id`.
pub async fn cases_linking<C: ConnectionTrait>(
    conn: &C,
    evidence_id: &str,
) -> Result<Vec<String>, DbErr> {
    ids(
        conn,
        "SELECT DISTINCT case_id FROM case_evidence_links WHERE evidence_id = ? ORDER BY case_id",
        evidence_id,
    )
    .await
}

/// The cases linking any evidence holding the bytes `sha256`.
pub async fn cases_linking_content<C: ConnectionTrait>(
    conn: &C,
    sha256: &str,
) -> Result<Vec<String>, DbErr> {
    ids(
        conn,
        "SELECT DISTINCT l.case_id FROM case_evidence_links l \
         JOIN evidence_content e ON e.evidence_id = l.evidence_id \
         WHERE e.sha256 = ? ORDER BY l.case_id",
        sha256,
    )
    .await
}

async fn ids<C: ConnectionTrait>(conn: &C, sql: &str, key: &str) -> Result<Vec<String>, DbErr> {
    query(conn, sql, vec![key.into()])
        .await?
        .iter()
        .map(|row| row.try_get_by_index(0))
        .collect()
}
