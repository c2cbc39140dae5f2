//! When a feed is polled next.
//!
//! After a successful poll the feed waits its interval, spread by a little
//! jitter so feeds configured alike do not fire together, and never less
//! than the server asked (`Cache-Control: max-age`, `Expires`). After a
//! failure it backs off exponentially — interval × 2^(failures − 1), capped
//! — with "full jitter" (a uniform draw from the upper half of that delay),
//! and never less than a `Retry-After`. A success resets the streak.
//!
//! The arithmetic is pure and takes its random draw as an argument, so it is
//! tested exactly; [`Jitter`] supplies the draws in the daemon.

use std::time::Duration;

use chrono::{DateTime, Datelike, Timelike, Utc};

/// Schedule settings shared by all feeds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScheduleConfig {
    /// Fraction of the interval by which a poll may move either way (0.1 =
    /// ±10%).
    pub jitter: f64,
    /// Longest wait after failures.
    pub backoff_max: Duration,
    /// Consecutive failures after which a feed is reported unhealthy.
    pub unhealthy_after: u32,
    /// Longest random delay before a feed's first poll after start-up, so
    /// thousands of feeds do not fire in the same second.
    pub startup_spread: Duration,
    /// Adaptive intervals: the least and greatest interval a feed may move
    /// to; `None` keeps every feed at its configured interval.
    pub adaptive: Option<(Duration, Duration)>,
}

/// Returns the delay before the next poll.
///
/// `error_streak` is the number of consecutive failures including this poll
/// (0 after a success); `server_delay` is what the server asked for, if
/// anything; `draw` is a uniform random number in `[0, 1)`.
pub fn next_delay(
    config: &ScheduleConfig,
    interval: Duration,
    error_streak: u32,
    server_delay: Option<Duration>,
    draw: f64,
) -> Duration {
    let draw = draw.clamp(0.0, 1.0);
    let delay = if error_streak == 0 {
        let spread = 1.0 + config.jitter * (2.0 * draw - 1.0);
        interval.mul_f64(spread.max(0.0))
    } else {
        let doublings = (error_streak - 1).min(30);
        let base = interval
            .saturating_mul(1u32 << doublings)
            .min(config.backoff_max);
        base.mul_f64(0.5 + 0.5 * draw)
    };
    match server_delay {
        Some(server_delay) => delay.max(server_delay),
        None => delay,
    }
}

/// Moves `at` past the hours (0–23, UTC) and days (0 = Monday) a feed
/// asked not to be polled in (RSS `skipHours` / `skipDays`), to the start
/// of the first allowed hour.
pub fn skip_forward(at: DateTime<Utc>, skip_hours: &[u32], skip_days: &[u32]) -> DateTime<Utc> {
    let allowed = |time: DateTime<Utc>| {
        !skip_hours.contains(&time.hour())
            && !skip_days.contains(&time.weekday().num_days_from_monday())
    };
    if allowed(at) {
        return at;
    }
    let mut hour_start = at
        .with_minute(0)
        .and_then(|time| time.with_second(0))
        .and_then(|time| time.with_nanosecond(0))
        .unwrap_or(at);
    // A week of hours covers every combination; a feed that skips all of
    // them is polled anyway rather than never.
    for _ in 0..24 * 7 {
        hour_start += chrono::Duration::hours(1);
        if allowed(hour_start) {
            return hour_start;
        }
    }
    at
}

/// The next adaptive interval: a feed that brought new stories is polled
/// sooner (×0.75), a quiet one later (×1.25), within `[min, max]`.
pub fn adapt_interval(current: Duration, had_news: bool, min: Duration, max: Duration) -> Duration {
    let factor = if had_news { 0.75 } else { 1.25 };
    current.mul_f64(factor).clamp(min, max.max(min))
}

/// A small, fast pseudo-random source for jitter (SplitMix64). Not for
/// anything that needs to be unpredictable.
#[derive(Debug, Clone)]
pub struct Jitter {
    state: u64,
}

impl Jitter {
    /// Returns a source seeded from `seed` mixed with the clock, so feeds
    /// and restarts draw differently.
    pub fn new(seed: &str) -> Self {
        let clock = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|since| since.as_nanos() as u64)
            .unwrap_or(0);
        let seed = seed.bytes().fold(0xcbf2_9ce4_8422_2325u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
        });
        Self {
            state: seed ^ clock,
        }
    }

    /// Returns a uniform draw in `[0, 1)`.
    pub fn draw(&mut self) -> f64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: ScheduleConfig = ScheduleConfig {
        jitter: 0.1,
        backoff_max: Duration::from_secs(3600),
        unhealthy_after: 5,
        startup_spread: Duration::from_secs(30),
        adaptive: None,
    };
    const FIVE_MINUTES: Duration = Duration::from_secs(300);

    #[test]
    fn success_waits_the_interval_with_jitter() {
        assert_eq!(
            next_delay(&CONFIG, FIVE_MINUTES, 0, None, 0.5),
            FIVE_MINUTES
        );
        assert_eq!(
            next_delay(&CONFIG, FIVE_MINUTES, 0, None, 0.0),
            Duration::from_secs(270)
        );
        assert_eq!(
            next_delay(&CONFIG, FIVE_MINUTES, 0, None, 0.999_999).as_secs(),
            329
        );
    }

    #[test]
    fn never_earlier_than_the_server_asked() {
        let asked = Duration::from_secs(900);
        assert_eq!(
            next_delay(&CONFIG, FIVE_MINUTES, 0, Some(asked), 0.0),
            asked
        );
        assert_eq!(
            next_delay(&CONFIG, FIVE_MINUTES, 1, Some(asked), 0.0),
            asked
        );
        // A short hint does not make the feed poll sooner than its interval.
        assert_eq!(
            next_delay(&CONFIG, FIVE_MINUTES, 0, Some(Duration::from_secs(10)), 0.5),
            FIVE_MINUTES
        );
    }

    #[test]
    fn failures_back_off_exponentially_up_to_the_cap() {
        let upper = |streak| next_delay(&CONFIG, FIVE_MINUTES, streak, None, 0.999_999_9);
        let lower = |streak| next_delay(&CONFIG, FIVE_MINUTES, streak, None, 0.0);
        assert_eq!(lower(1), Duration::from_secs(150));
        assert_eq!(upper(1).as_secs(), 299);
        assert_eq!(lower(2), Duration::from_secs(300));
        assert_eq!(lower(3), Duration::from_secs(600));
        assert_eq!(lower(4), Duration::from_secs(1200));
        // Capped at backoff_max from the fifth failure on, for ever.
        assert_eq!(lower(5), Duration::from_secs(1800));
        assert_eq!(lower(50), Duration::from_secs(1800));
        assert!(upper(50) <= CONFIG.backoff_max);
    }

    #[test]
    fn skip_hours_and_days_push_the_poll_to_the_next_allowed_hour() {
        let at = |text: &str| {
            DateTime::parse_from_rfc3339(text)
                .unwrap()
                .with_timezone(&Utc)
        };
        // Friday 2024-09-13 00:30 UTC, hours 0–5 skipped: 06:00.
        assert_eq!(
            skip_forward(at("2024-09-13T00:30:00Z"), &[0, 1, 2, 3, 4, 5], &[]),
            at("2024-09-13T06:00:00Z")
        );
        // Saturday and Sunday skipped: Monday 00:00.
        assert_eq!(
            skip_forward(at("2024-09-14T10:15:00Z"), &[], &[5, 6]),
            at("2024-09-16T00:00:00Z")
        );
        // An allowed time is left alone; skipping everything never hangs.
        assert_eq!(
            skip_forward(at("2024-09-13T12:00:00Z"), &[3], &[]),
            at("2024-09-13T12:00:00Z")
        );
        let every_hour: Vec<u32> = (0..24).collect();
        assert_eq!(
            skip_forward(at("2024-09-13T12:00:00Z"), &every_hour, &[]),
            at("2024-09-13T12:00:00Z")
        );
    }

    #[test]
    fn busy_feeds_are_polled_more_often_within_bounds() {
        let min = Duration::from_secs(60);
        let max = Duration::from_secs(1200);
        assert_eq!(
            adapt_interval(FIVE_MINUTES, true, min, max),
            Duration::from_secs(225)
        );
        assert_eq!(
            adapt_interval(FIVE_MINUTES, false, min, max),
            Duration::from_secs(375)
        );
        assert_eq!(adapt_interval(Duration::from_secs(70), true, min, max), min);
        assert_eq!(
            adapt_interval(Duration::from_secs(1100), false, min, max),
            max
        );
    }

    #[test]
    fn jitter_draws_are_uniform_enough() {
        let mut jitter = Jitter::new("ap-top");
        let draws: Vec<f64> = (0..10_000).map(|_| jitter.draw()).collect();
        assert!(draws.iter().all(|draw| (0.0..1.0).contains(draw)));
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        assert!((0.45..0.55).contains(&mean), "mean {mean}");
        let low = draws.iter().filter(|draw| **draw < 0.1).count();
        assert!((800..1200).contains(&low), "{low} draws under 0.1");
    }
}
