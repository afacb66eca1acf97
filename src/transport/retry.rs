//! Bounded exponential back-off for the requests that may be re-sent
//! (opening a shell; starting a command when nothing was sent). Pure.

use std::time::Duration;

/// Tries in all (the first one included).
pub const MAX_TRIES: u32 = 3;

/// First back-off; each later one doubles it.
pub const BASE_DELAY: Duration = Duration::from_millis(500);

/// The pause before try number `next_try` (1 = the first retry), or `None`
/// when the tries are used up.
pub fn delay_before(next_try: u32) -> Option<Duration> {
    if next_try == 0 || next_try >= MAX_TRIES {
        return None;
    }
    Some(BASE_DELAY * 2u32.pow(next_try - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_stops() {
        assert_eq!(delay_before(1), Some(Duration::from_millis(500)));
        assert_eq!(delay_before(2), Some(Duration::from_secs(1)));
        assert_eq!(delay_before(3), None);
        assert_eq!(delay_before(0), None);
    }
}
