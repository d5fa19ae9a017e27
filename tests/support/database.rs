//! Fresh databases per test: a temporary directory for SQLite files (and blobs, keys), and for
//! PostgreSQL one new database per service with a random name, dropped when the test ends.

use std::path::Path;

use docket_platform::ServiceKind;
use sea_orm::{ConnectionTrait, Database};
use tempfile::TempDir;

/// The variable that names the PostgreSQL server to test against.
pub const POSTGRES_VARIABLE: &str = "DOCKET_TEST_DATABASE_URL";

/// Which database the services run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Whether this run tests PostgreSQL.
    pub fn postgres_configured() -> bool {
        std::env::var(POSTGRES_VARIABLE).is_ok_and(|url| !url.is_empty())
    }
}

/// The databases of one test; PostgreSQL ones are dropped on drop.
#[derive(Debug)]
pub struct TestDatabases {
    dir: TempDir,
    postgres: Option<PostgresDatabases>,
}

#[derive(Debug)]
struct PostgresDatabases {
    admin_url: String,
    prefix: String,
    /// Databases made by [`TestDatabases::another`], dropped with the others.
    others: Vec<String>,
}

impl TestDatabases {
    /// New empty databases, or `None` for PostgreSQL when no server is configured.
    pub async fn create(backend: Backend) -> Option<Self> {
        let dir = tempfile::Builder::new()
            .prefix("docket-test-")
            .tempdir()
            .expect("a temporary directory");
        let postgres = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => {
                let admin_url = std::env::var(POSTGRES_VARIABLE).ok()?;
                let prefix = format!("docket_test_{}", uuid::Uuid::new_v4().simple());
                let admin = Database::connect(admin_url.as_str()).await.expect(
                    "the PostgreSQL server of DOCKET_TEST_DATABASE_URL accepts connections",
                );
                for kind in ServiceKind::ALL {
                    admin
                        .execute_unprepared(&format!(
                            "CREATE DATABASE {}",
                            database_name(&prefix, kind)
                        ))
                        .await
                        .expect("a test database can be created");
                }
                admin.close().await.expect("the admin connection closes");
                Some(PostgresDatabases {
                    admin_url,
                    prefix,
                    others: Vec::new(),
                })
            }
        };
        Some(Self { dir, postgres })
    }

    /// The data directory of the test.
    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The URL of one more empty database, `name`, beside the services' (a second reporting
    /// database to rebuild the projections from scratch, say).
    pub async fn another(&mut self, name: &str) -> String {
        let Some(pg) = &mut self.postgres else {
            return format!(
                "sqlite://{}?mode=rwc",
                self.dir.path().join(format!("{name}.db")).display()
            );
        };
        let database = format!("{}_{name}", pg.prefix);
        let admin = Database::connect(pg.admin_url.as_str())
            .await
            .expect("the PostgreSQL server accepts connections");
        admin
            .execute_unprepared(&format!("CREATE DATABASE {database}"))
            .await
            .expect("a test database can be created");
        admin.close().await.expect("the admin connection closes");
        let mut url = url::Url::parse(&pg.admin_url).expect("DOCKET_TEST_DATABASE_URL is a URL");
        url.set_path(&database);
        pg.others.push(database);
        url.to_string()
    }

    /// The database URL of a service.
    pub fn url(&self, kind: ServiceKind) -> String {
        match &self.postgres {
            None => format!(
                "sqlite://{}?mode=rwc",
                self.dir
                    .path()
                    .join(format!("{}.db", kind.name()))
                    .display()
            ),
            Some(pg) => {
                let mut url =
                    url::Url::parse(&pg.admin_url).expect("DOCKET_TEST_DATABASE_URL is a URL");
                url.set_path(&database_name(&pg.prefix, kind));
                url.to_string()
            }
        }
    }
}

fn database_name(prefix: &str, kind: ServiceKind) -> String {
    format!("{prefix}_{}", kind.name().replace('-', "_"))
}

impl Drop for TestDatabases {
    fn drop(&mut self) {
        let Some(pg) = self.postgres.take() else {
            return;
        };
        let prefix = pg.prefix.clone();
        // Drop runs outside async; a thread with its own runtime does the async clean-up.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for clean-up");
            runtime.block_on(async {
                let admin = Database::connect(pg.admin_url.as_str()).await?;
                let names = ServiceKind::ALL
                    .iter()
                    .map(|kind| database_name(&pg.prefix, *kind))
                    .chain(pg.others.iter().cloned());
                for name in names {
                    admin
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await?;
                }
                admin.close().await
            })
        });
        if let Ok(Err(error)) = cleanup.join() {
            eprintln!("could not drop the test databases {prefix}_*: {error}");
        }
    }
}
