//! What Linux's `/proc` says about a process: CPU time (all threads) and resident memory.

use std::fs;
use std::path::PathBuf;

/// Which process: `self` or a pid.
#[derive(Clone, Debug)]
pub(crate) struct Proc {
    dir: PathBuf,
}

/// CPU time consumed so far by all of a process's threads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Cpu {
    /// `utime + stime` from `/proc/PID/stat`, in clock ticks (includes threads that exited).
    pub(crate) ticks: u64,
    /// Per thread id, the first field of `/proc/PID/task/TID/schedstat` (nanoseconds on a
    /// CPU), sorted by thread id; `None` when the kernel does not provide it.
    pub(crate) sched_ns: Option<Vec<(u32, u64)>>,
}

impl Cpu {
    /// The nanoseconds on a CPU between `self` and a later reading: for every thread alive at
    /// the later reading, its time since the earlier one (all of it for a thread started
    /// since). Threads that exited in between are missing their share.
    pub(crate) fn sched_ns_until(&self, later: &Self) -> Option<u64> {
        let (before, after) = (self.sched_ns.as_ref()?, later.sched_ns.as_ref()?);
        Some(
            after
                .iter()
                .map(|(tid, ns)| {
                    let start = before
                        .binary_search_by_key(tid, |(t, _)| *t)
                        .map_or(0, |i| before[i].1);
                    ns.saturating_sub(start)
                })
                .sum(),
        )
    }
}

impl Proc {
    /// The process `pid`.
    pub(crate) fn pid(pid: u32) -> Self {
        Self {
            dir: PathBuf::from(format!("/proc/{pid}")),
        }
    }

    /// This process.
    pub(crate) fn myself() -> Self {
        Self {
            dir: PathBuf::from("/proc/self"),
        }
    }

    /// Whether the process can be read (it exists and we may look).
    pub(crate) fn check(&self) -> Result<(), String> {
        self.cpu().map(|_| ())
    }

    /// The CPU time so far.
    pub(crate) fn cpu(&self) -> Result<Cpu, String> {
        let path = self.dir.join("stat");
        let stat = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let ticks = parse_stat_ticks(&stat)
            .ok_or_else(|| format!("{}: unexpected format", path.display()))?;
        Ok(Cpu {
            ticks,
            sched_ns: self.sched_ns(),
        })
    }

    fn sched_ns(&self) -> Option<Vec<(u32, u64)>> {
        let mut threads = Vec::new();
        for entry in fs::read_dir(self.dir.join("task")).ok()?.flatten() {
            let Some(tid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
                continue;
            };
            // A thread may exit between the listing and the read: skip it.
            let Ok(text) = fs::read_to_string(entry.path().join("schedstat")) else {
                continue;
            };
            if let Some(ns) = text
                .split_ascii_whitespace()
                .next()
                .and_then(|f| f.parse::<u64>().ok())
            {
                threads.push((tid, ns));
            }
        }
        threads.sort_unstable();
        (!threads.is_empty()).then_some(threads)
    }

    /// The resident set size in KiB (`VmRSS` of `/proc/PID/status`).
    pub(crate) fn rss_kib(&self) -> Option<u64> {
        let status = fs::read_to_string(self.dir.join("status")).ok()?;
        parse_vm_rss(&status)
    }
}

/// `utime + stime` (fields 14 and 15) of a `/proc/PID/stat` line. The command name (field 2)
/// is in parentheses and may itself contain spaces and parentheses: fields are counted after
/// the last `)`.
pub(crate) fn parse_stat_ticks(stat: &str) -> Option<u64> {
    let after = &stat[stat.rfind(')')? + 1..];
    let mut fields = after.split_ascii_whitespace();
    // After ')': field 3 (state) is index 0, so utime (14) is index 11, stime (15) index 12.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// The `VmRSS:   1234 kB` line of `/proc/PID/status`.
pub(crate) fn parse_vm_rss(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_ascii_whitespace().next())
        .and_then(|kib| kib.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_after_the_command_name() {
        let stat = "4242 (tokio (rt) x) S 1 4242 4242 0 -1 4194560 1000 0 0 0 \
                    1234 567 0 0 20 0 9 0 100 200000 300 18446744073709551615";
        assert_eq!(parse_stat_ticks(stat), Some(1234 + 567));
        assert_eq!(parse_stat_ticks("1 (x) S 1"), None);
        assert_eq!(parse_stat_ticks("garbage"), None);
    }

    #[test]
    fn schedstat_deltas_per_thread() {
        let before = Cpu {
            ticks: 0,
            sched_ns: Some(vec![(10, 1000), (11, 5000), (12, 700)]),
        };
        // Thread 11 exited, thread 13 started.
        let after = Cpu {
            ticks: 0,
            sched_ns: Some(vec![(10, 1500), (12, 900), (13, 300)]),
        };
        assert_eq!(before.sched_ns_until(&after), Some(500 + 200 + 300));
        assert_eq!(after.sched_ns_until(&Cpu::default()), None);
    }

    #[test]
    fn vm_rss_line() {
        let status = "Name:\tdemo\nVmPeak:\t  99999 kB\nVmRSS:\t   20480 kB\nThreads:\t9\n";
        assert_eq!(parse_vm_rss(status), Some(20480));
        assert_eq!(parse_vm_rss("Name:\tkthread\n"), None);
    }

    #[test]
    fn this_process_is_readable() {
        let me = Proc::myself();
        let cpu = me.cpu().expect("/proc/self/stat");
        let later = me.cpu().expect("/proc/self/stat");
        assert!(later.ticks >= cpu.ticks);
        if cpu.sched_ns.is_some() {
            assert!(cpu.sched_ns_until(&later).is_some());
        }
        assert!(me.rss_kib().is_some_and(|kib| kib > 0));
        assert!(Proc::pid(u32::MAX).check().is_err());
    }
}
