//! Percentiles and the report (Markdown and JSON).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{Value, json};

use crate::procfs::Cpu;

/// The distribution of one leg's latencies (µs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Summary {
    pub(crate) count: usize,
    pub(crate) p50: u32,
    pub(crate) p90: u32,
    pub(crate) p99: u32,
    pub(crate) max: u32,
}

/// The nearest-rank percentile `p` (0..=100) of sorted samples.
fn percentile(sorted: &[u32], p: u32) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let n = sorted.len();
    let rank = (n * p as usize).div_ceil(100).max(1);
    sorted[rank.min(n) - 1]
}

impl Summary {
    /// Sorts `samples` and summarises them.
    pub(crate) fn of(samples: &mut [u32]) -> Self {
        samples.sort_unstable();
        Self {
            count: samples.len(),
            p50: percentile(samples, 50),
            p90: percentile(samples, 90),
            p99: percentile(samples, 99),
            max: samples.last().copied().unwrap_or(0),
        }
    }

    fn json(&self) -> Value {
        json!({
            "count": self.count,
            "p50_us": self.p50,
            "p90_us": self.p90,
            "p99_us": self.p99,
            "max_us": self.max,
        })
    }
}

/// CPU time over the measurement.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct CpuDelta {
    /// From `utime + stime`, in µs.
    pub(crate) stat_us: u64,
    /// From schedstat, in µs.
    pub(crate) sched_us: Option<u64>,
}

impl CpuDelta {
    /// The CPU used between two readings; `clk_tck` ticks per second.
    pub(crate) fn between(before: &Cpu, after: &Cpu, clk_tck: u64) -> Self {
        let ticks = after.ticks.saturating_sub(before.ticks);
        Self {
            stat_us: ticks.saturating_mul(1_000_000) / clk_tck.max(1),
            sched_us: before.sched_ns_until(after).map(|ns| ns / 1000),
        }
    }

    /// The finer measure when there is one.
    pub(crate) fn best_us(&self) -> u64 {
        self.sched_us.unwrap_or(self.stat_us)
    }
}

/// The OP's memory over the measurement.
#[derive(Clone, Debug, Default)]
pub(crate) struct Rss {
    /// `(seconds since the measurement began, KiB)`.
    pub(crate) samples: Vec<(f64, u64)>,
}

impl Rss {
    pub(crate) fn start(&self) -> Option<u64> {
        self.samples.first().map(|s| s.1)
    }
    pub(crate) fn end(&self) -> Option<u64> {
        self.samples.last().map(|s| s.1)
    }
    pub(crate) fn max(&self) -> Option<u64> {
        self.samples.iter().map(|s| s.1).max()
    }
}

/// Everything the report shows.
#[derive(Debug)]
pub(crate) struct Report {
    pub(crate) title: String,
    pub(crate) settings: String,
    pub(crate) duration: Duration,
    pub(crate) authorize: Summary,
    pub(crate) token: Summary,
    pub(crate) userinfo: Option<Summary>,
    pub(crate) flow: Summary,
    pub(crate) validated: u64,
    pub(crate) errors: u64,
    pub(crate) kinds: BTreeMap<String, u64>,
    pub(crate) details: Vec<String>,
    pub(crate) op_cpu: Option<CpuDelta>,
    pub(crate) client_cpu: Option<CpuDelta>,
    pub(crate) rss: Option<Rss>,
    pub(crate) clk_tck: u64,
}

fn ms(us: u32) -> String {
    format!("{:.3}", f64::from(us) / 1000.0)
}

fn per_flow(us: u64, flows: usize) -> Option<f64> {
    (flows > 0).then(|| us as f64 / flows as f64)
}

impl Report {
    pub(crate) fn flows(&self) -> usize {
        self.flow.count
    }

    pub(crate) fn flows_per_s(&self) -> f64 {
        self.flows() as f64 / self.duration.as_secs_f64()
    }

    /// The Markdown report.
    pub(crate) fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "## {}\n\n{}\n", self.title, self.settings);
        let _ = writeln!(
            out,
            "| leg | count | p50 ms | p90 ms | p99 ms | max ms |\n| --- | ---: | ---: | ---: | ---: | ---: |"
        );
        let mut legs = vec![("authorize", self.authorize), ("token", self.token)];
        if let Some(userinfo) = self.userinfo {
            legs.push(("userinfo", userinfo));
        }
        legs.push(("**flow**", self.flow));
        for (name, s) in legs {
            let _ = writeln!(
                out,
                "| {name} | {} | {} | {} | {} | {} |",
                s.count,
                ms(s.p50),
                ms(s.p90),
                ms(s.p99),
                ms(s.max)
            );
        }
        let flows = self.flows();
        let _ = writeln!(out, "\n| result | value |\n| --- | ---: |");
        let _ = writeln!(out, "| flows | {flows} |");
        let _ = writeln!(out, "| flows/s | {:.1} |", self.flows_per_s());
        let _ = writeln!(out, "| errors | {} |", self.errors);
        let _ = writeln!(out, "| validated flows | {} |", self.validated);
        if let Some(cpu) = self.op_cpu {
            let _ = writeln!(
                out,
                "| OP CPU, /proc stat ({} ticks/s) | {:.2} s = {} µs/flow |",
                self.clk_tck,
                cpu.stat_us as f64 / 1e6,
                per_flow(cpu.stat_us, flows).map_or("-".into(), |v| format!("{v:.0}"))
            );
            if let Some(sched) = cpu.sched_us {
                let _ = writeln!(
                    out,
                    "| OP CPU, schedstat | {:.3} s = {} µs/flow |",
                    sched as f64 / 1e6,
                    per_flow(sched, flows).map_or("-".into(), |v| format!("{v:.0}"))
                );
            }
        }
        if let Some(cpu) = self.client_cpu {
            let _ = writeln!(
                out,
                "| flowbench CPU (incl. validation) | {:.3} s = {} µs/flow |",
                cpu.best_us() as f64 / 1e6,
                per_flow(cpu.best_us(), flows).map_or("-".into(), |v| format!("{v:.0}"))
            );
        }
        if let Some(rss) = &self.rss {
            let show = |v: Option<u64>| v.map_or("-".into(), |v| v.to_string());
            let _ = writeln!(
                out,
                "| OP RSS start / end / max (KiB) | {} / {} / {} |",
                show(rss.start()),
                show(rss.end()),
                show(rss.max())
            );
        }
        if !self.kinds.is_empty() {
            let _ = writeln!(out, "\n| error | count |\n| --- | ---: |");
            for (kind, n) in &self.kinds {
                let _ = writeln!(out, "| {} | {n} |", kind.replace('|', "\\|"));
            }
            let _ = writeln!(out, "\nFirst errors:\n");
            for detail in &self.details {
                let _ = writeln!(out, "- {detail}");
            }
        }
        out
    }

    /// The JSON report (stable field names).
    pub(crate) fn json(&self) -> Value {
        let flows = self.flows();
        let op = self.op_cpu;
        json!({
            "flows": flows,
            "duration_s": self.duration.as_secs_f64(),
            "flows_per_s": self.flows_per_s(),
            "errors": self.errors,
            "error_kinds": self.kinds,
            "validated": self.validated,
            "legs": {
                "authorize": self.authorize.json(),
                "token": self.token.json(),
                "userinfo": self.userinfo.unwrap_or_default().json(),
                "flow": self.flow.json(),
            },
            "op_cpu_s": op.map(|c| c.stat_us as f64 / 1e6),
            "op_cpu_us_per_flow": op.and_then(|c| per_flow(c.stat_us, flows)),
            "op_cpu_us_per_flow_schedstat": op
                .and_then(|c| c.sched_us)
                .and_then(|us| per_flow(us, flows)),
            "client_cpu_us_per_flow": self
                .client_cpu
                .and_then(|c| per_flow(c.best_us(), flows)),
            "rss_kib": self.rss.as_ref().map(|r| json!({
                "start": r.start(),
                "end": r.end(),
                "max": r.max(),
            })),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut samples: Vec<u32> = (1..=100).rev().collect();
        let s = Summary::of(&mut samples);
        assert_eq!(
            (s.count, s.p50, s.p90, s.p99, s.max),
            (100, 50, 90, 99, 100)
        );
        let s = Summary::of(&mut [7]);
        assert_eq!((s.p50, s.p99, s.max), (7, 7, 7));
        assert_eq!(Summary::of(&mut []), Summary::default());
        let s = Summary::of(&mut [1, 2, 3]);
        assert_eq!((s.p50, s.p90), (2, 3));
    }

    #[test]
    fn cpu_deltas() {
        let before = Cpu {
            ticks: 100,
            sched_ns: Some(vec![(1, 1_000_000_000)]),
        };
        let after = Cpu {
            ticks: 250,
            sched_ns: Some(vec![(1, 2_500_000_000)]),
        };
        let d = CpuDelta::between(&before, &after, 100);
        assert_eq!(d.stat_us, 1_500_000);
        assert_eq!(d.sched_us, Some(1_500_000));
        let d = CpuDelta::between(&after, &before, 100);
        assert_eq!((d.stat_us, d.sched_us), (0, Some(0)));
        let d = CpuDelta::between(&Cpu::default(), &after, 250);
        assert_eq!((d.stat_us, d.sched_us), (1_000_000, None));
    }

    #[test]
    fn json_field_names() {
        let report = Report {
            title: "t".into(),
            settings: "s".into(),
            duration: Duration::from_secs(2),
            authorize: Summary::of(&mut [10, 20]),
            token: Summary::of(&mut [30, 40]),
            userinfo: None,
            flow: Summary::of(&mut [50, 70]),
            validated: 2,
            errors: 0,
            kinds: BTreeMap::new(),
            details: Vec::new(),
            op_cpu: Some(CpuDelta {
                stat_us: 1000,
                sched_us: Some(900),
            }),
            client_cpu: None,
            rss: Some(Rss {
                samples: vec![(0.0, 10), (1.0, 12), (2.0, 11)],
            }),
            clk_tck: 100,
        };
        let j = report.json();
        assert_eq!(j["flows"], 2);
        assert_eq!(j["flows_per_s"], 1.0);
        assert_eq!(j["legs"]["flow"]["p99_us"], 70);
        assert_eq!(j["legs"]["userinfo"]["count"], 0);
        assert_eq!(j["op_cpu_us_per_flow"], 500.0);
        assert_eq!(j["op_cpu_us_per_flow_schedstat"], 450.0);
        assert_eq!(j["rss_kib"], json!({"start": 10, "end": 11, "max": 12}));
        assert!(
            report
                .markdown()
                .contains("| **flow** | 2 | 0.050 | 0.070 | 0.070 | 0.070 |")
        );
    }
}
