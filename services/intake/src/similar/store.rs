//! The `perceptual_hashes` table: written with a job's completion, read whole at start.

use docket_platform::db::placeholder;
use sea_orm::{ConnectionTrait, DbErr, Statement, Value};

use super::index::{HashIndex, Media};

/// Writes the hashes of `sha256`, in order (a second write of the same is ignored).
pub async fn write<C: ConnectionTrait>(
    conn: &C,
    sha256: &str,
    media: Media,
    hashes: &[u64],
) -> Result<(), DbErr> {
    let backend = conn.get_database_backend();
    // 4 values a row: 200 rows stay far under SQLite's parameter limit.
    for (chunk_index, chunk) in hashes.chunks(200).enumerate() {
        let mut rows = Vec::with_capacity(chunk.len());
        let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 4);
        for (i, hash) in chunk.iter().enumerate() {
            let n = values.len();
            rows.push(format!(
                "({}, {}, {}, {})",
                placeholder(backend, n + 1),
                placeholder(backend, n + 2),
                placeholder(backend, n + 3),
                placeholder(backend, n + 4)
            ));
            let position = i32::try_from(chunk_index * 200 + i).unwrap_or(i32::MAX);
            values.push(sha256.into());
            values.push(position.into());
            values.push(media.code().into());
            // The bits as they are: a signed column holds them all.
            values.push(i64::from_ne_bytes(hash.to_ne_bytes()).into());
        }
        let sql = format!(
            "INSERT INTO perceptual_hashes (sha256, position, media, hash) VALUES {} \
             ON CONFLICT (sha256, position) DO NOTHING",
            rows.join(", ")
        );
        conn.execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
    }
    Ok(())
}

/// The hashes of `sha256`, if it was hashed.
pub async fn read<C: ConnectionTrait>(
    conn: &C,
    sha256: &str,
) -> Result<Option<(Media, Vec<u64>)>, DbErr> {
    let backend = conn.get_database_backend();
    let sql = format!(
        "SELECT media, hash FROM perceptual_hashes WHERE sha256 = {} ORDER BY position",
        placeholder(backend, 1)
    );
    let rows = conn
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [sha256.into()],
        ))
        .await?;
    let mut media = None;
    let mut hashes = Vec::with_capacity(rows.len());
    for row in rows {
        let code: String = row.try_get_by_index(0)?;
        media = Some(media_of(&code)?);
        let hash: i64 = row.try_get_by_index(1)?;
        hashes.push(u64::from_ne_bytes(hash.to_ne_bytes()));
    }
    Ok(media.map(|media| (media, hashes)))
}

fn media_of(code: &str) -> Result<Media, DbErr> {
    Media::from_code(code).ok_or_else(|| DbErr::Custom(format!("unknown perceptual media {code}")))
}

/// Rows read at a time while loading.
const LOAD_PAGE: i64 = 50_000;

/// Every stored hash, into a new index, a page of rows at a time.
pub async fn load<C: ConnectionTrait>(conn: &C) -> Result<HashIndex, DbErr> {
    let backend = conn.get_database_backend();
    let sql = format!(
        "SELECT sha256, position, media, hash FROM perceptual_hashes \
         WHERE sha256 > {p1} OR (sha256 = {p2} AND position > {p3}) \
         ORDER BY sha256, position LIMIT {p4}",
        p1 = placeholder(backend, 1),
        p2 = placeholder(backend, 2),
        p3 = placeholder(backend, 3),
        p4 = placeholder(backend, 4),
    );
    let mut index = HashIndex::default();
    let mut current: Option<(String, Media)> = None;
    let mut hashes = Vec::new();
    let (mut after_sha256, mut after_position) = (String::new(), -1_i32);
    loop {
        let values: Vec<Value> = vec![
            after_sha256.clone().into(),
            after_sha256.clone().into(),
            after_position.into(),
            LOAD_PAGE.into(),
        ];
        let rows = conn
            .query_all_raw(Statement::from_sql_and_values(backend, sql.clone(), values))
            .await?;
        let full = rows.len() as i64 == LOAD_PAGE;
        for row in rows {
            let sha256: String = row.try_get_by_index(0)?;
            let position: i32 = row.try_get_by_index(1)?;
            let code: String = row.try_get_by_index(2)?;
            let hash: i64 = row.try_get_by_index(3)?;
            if current.as_ref().is_some_and(|(s, _)| *s != sha256)
                && let Some((done, media)) = current.take()
            {
                index.insert(&done, media, &hashes);
                hashes.clear();
            }
            if current.is_none() {
                current = Some((sha256.clone(), media_of(&code)?));
            }
            hashes.push(u64::from_ne_bytes(hash.to_ne_bytes()));
            (after_sha256, after_position) = (sha256, position);
        }
        if !full {
            break;
        }
    }
    if let Some((done, media)) = current {
        index.insert(&done, media, &hashes);
    }
    Ok(index)
}
