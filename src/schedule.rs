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
