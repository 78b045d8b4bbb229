//! The summary's counts, added up from the counters (marginal rows) and
//! from the cases of the edges (`figures`).
use std::collections::BTreeMap;

use uuid::Uuid;

use super::figures::CaseCount;
use crate::cases::clocks::counts_in_figures;

#[derive(Default)]
pub struct Tally {
    pub by_category: BTreeMap<String, u64>,
    pub by_status: BTreeMap<String, u64>,
    pub by_unit: BTreeMap<Option<Uuid>, u64>,
    pub total: u64,
    pub overdue: u64,
    /// Met and missed per counted deadline kind; a kind is listed when
    /// one of its deadlines fell due (fired or was cancelled), even with
    /// nothing met or missed.
    pub kinds: BTreeMap<String, (u64, u64)>,
}

impl Tally {
    /// Rows of (category, status, unit, overdue) → n.
    pub fn add_cases(&mut self, counts: &[CaseCount]) {
        for c in counts {
            *self.by_category.entry(c.category.clone()).or_insert(0) += c.n;
            *self.by_status.entry(c.status.clone()).or_insert(0) += c.n;
            *self.by_unit.entry(c.unit).or_insert(0) += c.n;
            self.total += c.n;
            if c.overdue {
                self.overdue += c.n;
            }
        }
    }

    /// A counter row: `dim` is category, status, unit (value '' for
    /// none), overdue, or met, missed, settled (value: the deadline kind).
    pub fn add_marginal(&mut self, dim: &str, value: String, n: u64) {
        if n == 0 {
            return;
        }
        match dim {
            "category" => {
                *self.by_category.entry(value).or_insert(0) += n;
                self.total += n;
            }
            "status" => *self.by_status.entry(value).or_insert(0) += n,
            "unit" => {
                *self
                    .by_unit
                    .entry(Uuid::parse_str(&value).ok())
                    .or_insert(0) += n
            }
            "overdue" => self.overdue += n,
            "met" | "missed" | "settled" if counts_in_figures(&value) => {
                let e = self.kinds.entry(value).or_insert((0, 0));
                match dim {
                    "met" => e.0 += n,
                    "missed" => e.1 += n,
                    _ => {}
                }
            }
            _ => {}
        }
    }

    /// Met and missed per kind counted from the cases.
    pub fn add_kinds(&mut self, kinds: BTreeMap<String, (u64, u64)>) {
        for (k, (m, x)) in kinds {
            let e = self.kinds.entry(k).or_insert((0, 0));
            e.0 += m;
            e.1 += x;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marginals_add_up_and_settled_kinds_are_listed() {
        let mut t = Tally::default();
        t.add_marginal("category", "domestic_violence".into(), 3);
        t.add_marginal("category", "land_rights".into(), 2);
        t.add_marginal("status", "new".into(), 5);
        t.add_marginal("unit", String::new(), 4);
        t.add_marginal("unit", "0b5e6d4a3c2b41a09f8e7d6c5b4a3f21".into(), 1);
        t.add_marginal("overdue", String::new(), 2);
        t.add_marginal("settled", "case.accept".into(), 1);
        t.add_marginal("met", "case.dispatch".into(), 2);
        t.add_marginal("missed", "case.dispatch".into(), 1);
        t.add_marginal("missed", "case.accept.remind".into(), 4);
        t.add_marginal("category", "other".into(), 0);
        assert_eq!(t.total, 5);
        assert_eq!(t.overdue, 2);
        assert_eq!(t.by_category.len(), 2);
        assert_eq!(t.by_unit.get(&None), Some(&4));
        assert_eq!(t.by_unit.len(), 2);
        assert_eq!(t.kinds.get("case.accept"), Some(&(0, 0)));
        assert_eq!(t.kinds.get("case.dispatch"), Some(&(2, 1)));
        assert!(!t.kinds.contains_key("case.accept.remind"));
    }
}
