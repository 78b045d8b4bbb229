//! The calendar in the database (`calendar_days`, one row per day that
//! differs from the weekly rule) and in memory. `lianxin calendar import`
//! replaces a year; the server loads the shipped files for any year the
//! database lacks when it starts. Each process keeps one snapshot and
//! reloads it when it is older than [`MAX_AGE`], so an import beside a
//! running server takes effect within a minute.
use std::{
    sync::{Arc, PoisonError, RwLock},
    time::{Duration, Instant},
};

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
};

use super::{file::YearFile, Calendar};
use crate::error::{Error, Result};

pub mod calendar_day {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "calendar_days")]
    pub struct Model {
        /// `YYYY-MM-DD`, Beijing date.
        #[sea_orm(primary_key, auto_increment = false)]
        pub day: String,
        pub year: i32,
        pub working: bool,
        pub name: String,
        pub provisional: bool,
        pub imported_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The yearly files shipped with the binary.
pub const SHIPPED: &[&str] = &[
    include_str!("../../../ops/calendar/2026.txt"),
    include_str!("../../../ops/calendar/2027.txt"),
];

/// The oldest snapshot a clock is computed with.
pub const MAX_AGE: Duration = Duration::from_secs(60);

/// Replace the year of `f` with its days. Returns how many were written.
pub async fn import(
    conn: &impl ConnectionTrait,
    f: &YearFile,
    now: DateTime<Utc>,
) -> Result<usize> {
    calendar_day::Entity::delete_many()
        .filter(calendar_day::Column::Year.eq(f.year))
        .exec(conn)
        .await?;
    let rows: Vec<calendar_day::ActiveModel> = f
        .days
        .iter()
        .map(|d| calendar_day::ActiveModel {
            day: Set(d.day.format("%Y-%m-%d").to_string()),
            year: Set(f.year),
            working: Set(d.working),
            name: Set(d.name.clone()),
            provisional: Set(f.provisional),
            imported_at: Set(now),
        })
        .collect();
    let n = rows.len();
    if n > 0 {
        calendar_day::Entity::insert_many(rows).exec(conn).await?;
    }
    Ok(n)
}

/// Load the shipped file of every year the database has no day of.
pub async fn ensure_shipped(conn: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<()> {
    for text in SHIPPED {
        let f = super::file::parse(text).map_err(Error::Internal)?;
        let have = calendar_day::Entity::find()
            .filter(calendar_day::Column::Year.eq(f.year))
            .count(conn)
            .await?;
        if have == 0 {
            import(conn, &f, now).await?;
        }
    }
    Ok(())
}

async fn load(conn: &impl ConnectionTrait, open: NaiveTime, close: NaiveTime) -> Result<Calendar> {
    let days = calendar_day::Entity::find().all(conn).await?;
    Ok(Calendar::new(
        days.into_iter().filter_map(|d| {
            NaiveDate::parse_from_str(&d.day, "%Y-%m-%d")
                .ok()
                .map(|day| (day, d.working))
        }),
        open,
        close,
    ))
}

/// This process's snapshot of the calendar.
pub struct Shared {
    open: NaiveTime,
    close: NaiveTime,
    snapshot: RwLock<Option<(Arc<Calendar>, Instant)>>,
}

impl Shared {
    pub fn new(office: (NaiveTime, NaiveTime)) -> Shared {
        Shared {
            open: office.0,
            close: office.1,
            snapshot: RwLock::new(None),
        }
    }

    /// The calendar, read again when the snapshot is older than a minute.
    pub async fn get(&self, conn: &impl ConnectionTrait) -> Result<Arc<Calendar>> {
        if let Some((cal, at)) = &*self.snapshot.read().unwrap_or_else(PoisonError::into_inner) {
            if at.elapsed() < MAX_AGE {
                return Ok(cal.clone());
            }
        }
        let cal = Arc::new(load(conn, self.open, self.close).await?);
        *self
            .snapshot
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some((cal.clone(), Instant::now()));
        Ok(cal)
    }
}

impl Default for Shared {
    fn default() -> Self {
        Shared::new(super::OFFICE_DEFAULT)
    }
}
