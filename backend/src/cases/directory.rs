//! What intake reads to route a case, kept in memory: the routing rules,
//! the active units by region, the co-handling rules (the referrals a
//! category's cases open with), and the region codes known to exist.
//!
//! Every intake used to read these three with a query each; under load
//! that was most of its database work. The rules and units are a small
//! snapshot, reloaded when this process changes one of them (the admin
//! writes commit through [`Directory::commit_change`]), when
//! another process tells it so (PostgreSQL `NOTIFY lianxin_directory`,
//! sent by the same commits), and at the latest [`MAX_AGE`] after it was
//! loaded, which bounds what a missed notice (a CLI run beside the server
//! on SQLite, a dropped LISTEN connection) can cost. A case opened while a
//! change is on its way is routed as if it had been opened just before the
//! change, the same race as without the cache.
//!
//! Region codes are only ever added (the import upserts names, it deletes
//! nothing), so a code once seen in the table is remembered for good; an
//! unknown code is looked up each time.
use std::{
    collections::{HashMap, HashSet},
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, PoisonError, RwLock,
    },
    time::{Duration, Instant},
};

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::routing::Candidate;
use crate::{
    db::{
        entities::{routing_rule, unit},
        WriteTxn,
    },
    error::Result,
    referrals::entity::co_handling,
    regions::{self, RegionCode},
    vocab::{Category, UnitKind},
};

/// The PostgreSQL channel on which a process says that units or routing
/// rules changed.
pub const NOTIFY_CHANNEL: &str = "lianxin_directory";

/// The oldest snapshot intake will route with.
pub const MAX_AGE: Duration = Duration::from_secs(2);

struct Snapshot {
    generation: u64,
    loaded_at: Instant,
    /// Admin overrides of the category → unit kind defaults.
    rules: HashMap<Category, UnitKind>,
    /// Active units by the region code they sit at.
    units: HashMap<String, Vec<Candidate>>,
    /// The referral kinds each category's cases open with (co-handling).
    co_handling: HashMap<Category, Vec<String>>,
}

#[derive(Default)]
pub struct Directory {
    generation: AtomicU64,
    snapshot: RwLock<Option<Arc<Snapshot>>>,
    /// One reload at a time: the requests that find the snapshot stale
    /// together wait for one load instead of each reading every unit.
    reload: tokio::sync::Mutex<()>,
    regions: RwLock<HashSet<String>>,
}

/// The routing inputs for one case.
pub struct Routing {
    pub kind: UnitKind,
    pub candidates: Vec<Candidate>,
}

impl Snapshot {
    fn candidates(&self, kind: UnitKind, place: &RegionCode) -> Vec<Candidate> {
        place
            .self_and_ancestors()
            .iter()
            .filter_map(|code| self.units.get(code.as_str()))
            .flatten()
            .filter(|u| u.kind == kind || u.kind == UnitKind::HotlineCenter)
            .cloned()
            .collect()
    }
}

impl Directory {
    /// Units or routing rules changed: the next intake reloads them.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// The unit kind for `category` and the candidates for `place`: active
    /// units of that kind or the hotline centre, at the place or above it.
    pub async fn routing(
        &self,
        conn: &impl ConnectionTrait,
        category: Category,
        place: &RegionCode,
    ) -> Result<Routing> {
        let snap = self.snapshot(conn).await?;
        let kind = snap
            .rules
            .get(&category)
            .copied()
            .unwrap_or_else(|| category.default_unit_kind());
        Ok(Routing {
            kind,
            candidates: snap.candidates(kind, place),
        })
    }

    /// Active units of `kind` or the hotline centre, at `place` or above
    /// it (a declined case goes back to the nearest hotline centre).
    pub async fn candidates(
        &self,
        conn: &impl ConnectionTrait,
        kind: UnitKind,
        place: &RegionCode,
    ) -> Result<Vec<Candidate>> {
        Ok(self.snapshot(conn).await?.candidates(kind, place))
    }

    /// The referral kinds a case of `category` opens with (co-handling).
    pub async fn co_handling(
        &self,
        conn: &impl ConnectionTrait,
        category: Category,
    ) -> Result<Vec<String>> {
        let snap = self.snapshot(conn).await?;
        Ok(snap.co_handling.get(&category).cloned().unwrap_or_default())
    }

    /// Commit `txn`, which changed units or routing rules. Other processes
    /// hear of it with the commit (PostgreSQL `NOTIFY`; SQLite has no other
    /// process to tell but a CLI run, which [`MAX_AGE`] covers); this one
    /// reloads at its next intake.
    pub async fn commit_change(&self, txn: WriteTxn) -> Result<()> {
        crate::db::notify_with_commit(&*txn, NOTIFY_CHANNEL, "").await?;
        txn.commit().await?;
        self.invalidate();
        Ok(())
    }

    /// `raw` parsed, and known to the regions table; else a validation
    /// error on `field`.
    pub async fn known_region(
        &self,
        conn: &impl ConnectionTrait,
        field: &str,
        raw: &str,
    ) -> Result<RegionCode> {
        let code = regions::parse_field(field, raw)?;
        let seen = self
            .regions
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(code.as_str());
        if seen {
            return Ok(code);
        }
        let code = regions::require_known(conn, field, raw).await?;
        self.regions
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(code.as_str().to_string());
        Ok(code)
    }

    /// The current snapshot, if it is fresh.
    fn fresh(&self) -> Option<Arc<Snapshot>> {
        let generation = self.generation.load(Ordering::Acquire);
        self.snapshot
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .filter(|s| s.generation == generation && s.loaded_at.elapsed() < MAX_AGE)
    }

    async fn snapshot(&self, conn: &impl ConnectionTrait) -> Result<Arc<Snapshot>> {
        if let Some(s) = self.fresh() {
            return Ok(s);
        }
        let _reloading = self.reload.lock().await;
        if let Some(s) = self.fresh() {
            return Ok(s);
        }
        // The generation is read before the queries, so a change committed
        // while they run leaves the snapshot already stale.
        let generation = self.generation.load(Ordering::Acquire);
        let loaded_at = Instant::now();
        let rules = routing_rule::Entity::find()
            .all(conn)
            .await?
            .into_iter()
            .map(|r| (r.category, r.unit_kind))
            .collect();
        let mut units: HashMap<String, Vec<Candidate>> = HashMap::new();
        for u in unit::Entity::find()
            .filter(unit::Column::Active.eq(true))
            .all(conn)
            .await?
        {
            let kind = u.kind;
            units
                .entry(u.region_code.clone())
                .or_default()
                .push(Candidate {
                    id: u.id,
                    kind,
                    name: u.name,
                    region_code: u.region_code,
                });
        }
        let mut co_handling = HashMap::new();
        for r in co_handling::Entity::find().all(conn).await? {
            let kinds: Vec<String> = serde_json::from_value(r.kinds).map_err(|e| {
                crate::error::Error::Internal(format!("stored co-handling kinds: {e}"))
            })?;
            co_handling.insert(r.category, kinds);
        }
        let snap = Arc::new(Snapshot {
            generation,
            loaded_at,
            rules,
            units,
            co_handling,
        });
        *self
            .snapshot
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(snap.clone());
        Ok(snap)
    }
}
